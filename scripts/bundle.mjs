// Builds the CLI into one ES module, dist/cli/main.js, dependencies included: a command starts by
// loading one file instead of a few hundred, which is most of a no-change run's fixed cost.
// Type-checking is separate (`npm run typecheck`); esbuild only strips the types.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/cli/main.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  // ES module builds where packages offer them (jsonc-parser's UMD build requires files dynamically).
  mainFields: ['module', 'main'],
  // CommonJS dependencies call require(); give the module one.
  banner: { js: "import { createRequire as __iwCreateRequire } from 'node:module'; const require = __iwCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
