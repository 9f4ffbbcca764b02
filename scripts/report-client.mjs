// How the HTML report's page script is built: src/report/client/app.ts with dagre, into one script
// for the browser. Used by src/report/client-script.ts when run from source, and by the CLI bundle
// (bundle-config.mjs), which builds it once and inlines the result.
export const reportClientEntry = new URL('../src/report/client/app.ts', import.meta.url).pathname;

/** esbuild options for the page script; the caller adds `write: false`. */
export const reportClientBuildOptions = {
  entryPoints: [reportClientEntry],
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  // dagre's license comments stay with its code.
  legalComments: 'eof',
  logLevel: 'warning',
};
