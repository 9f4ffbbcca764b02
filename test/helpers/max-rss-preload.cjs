/* global require, process */
// Loaded with `node --require` by test/helpers/adversarial.ts: on exit, writes the process's peak
// resident memory (KB) where IMAGEWRIGHT_TEST_MAX_RSS_FILE says, so a test can bound it.
'use strict';
const file = process.env.IMAGEWRIGHT_TEST_MAX_RSS_FILE;
if (file) {
  process.on('exit', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('node:fs').writeFileSync(file, String(process.resourceUsage().maxRSS));
  });
}
