// How the CLI is bundled: by scripts/bundle.mjs into dist/cli/main.js, and by the tests' CLI helper
// (test/helpers/cli.ts), so that tests and benchmarks run what users run.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { build as esbuild } from 'esbuild';
import { reportClientBuildOptions } from './report-client.mjs';
import standaloneCode from 'ajv/dist/standalone/index.js';

const root = new URL('../', import.meta.url);
const readJson = (path) => JSON.parse(readFileSync(new URL(path, root), 'utf8'));

/**
 * Replaces src/manifest/schema-validator.ts with the validator ajv generates ahead of time (its
 * standalone mode) for the same schema and options, instead of compiling the schema on every run.
 */
const precompiledManifestValidator = {
  name: 'precompiled-manifest-validator',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]manifest[\\/]schema-validator\.ts$/ }, () => {
      const ajv = new Ajv({ ...readJson('src/manifest/ajv-options.json'), code: { source: true, esm: true } });
      const validate = ajv.compile(readJson('schema/manifest.schema.json'));
      const code = standaloneCode(ajv, validate);
      return { contents: `${code}\nexport function createValidator() { return validate; }\n`, loader: 'js', resolveDir: new URL('src/manifest/', root).pathname };
    });
  },
};

/**
 * Replaces src/report/client-script.ts with the report page's script built now (dagre included), so
 * the CLI carries it as a string and needs no esbuild at run time.
 */
const prebuiltReportClient = {
  name: 'prebuilt-report-client',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]report[\\/]client-script\.ts$/ }, async () => {
      const result = await esbuild({ ...reportClientBuildOptions, write: false });
      const script = result.outputFiles[0].text;
      return { contents: `export function reportClientScript() { return ${JSON.stringify(script)}; }\n`, loader: 'js' };
    });
  },
};

/** esbuild options; the caller adds `outfile`. */
export const bundleOptions = {
  entryPoints: [new URL('src/cli/main.ts', root).pathname],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // ES module builds where packages offer them (jsonc-parser's UMD build requires files dynamically).
  mainFields: ['module', 'main'],
  // CommonJS dependencies call require(); give the module one.
  banner: { js: "import { createRequire as __iwCreateRequire } from 'node:module'; const require = __iwCreateRequire(import.meta.url);" },
  plugins: [precompiledManifestValidator, prebuiltReportClient],
  logLevel: 'warning',
};
