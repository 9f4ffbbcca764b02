/**
 * The context imagewright hashes is the context the real engine transfers: for each .dockerignore
 * below, BuildKit exports what it received (`COPY . /` from scratch, `--output type=local`) and the
 * file list must equal hashContext's. The sets avoid the cases where the Docker 20.10 client of this
 * machine still has bugs BuildKit's fsutil has since fixed (test/unit/dockerignore.test.ts pins those).
 */
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { hashContext } from '../../src/context/index.js';
import { docker } from '../helpers/engine.js';

const FILES = [
  'a.md',
  'docs/r.md',
  'docs/sub/deep.txt',
  'docs/sub/x.md',
  'src/main.c',
  'src/gen/out.o',
  'src/gen/keep.o',
  'build/keep/me.txt',
  'build/tmp.txt',
  'foo.bar',
  'foobar/x',
  'logs/a.log',
  'x/logs/b.log',
  '.git/HEAD',
  'weird[1].txt',
  'dir.with.dots/f',
];

const SETS: string[][] = [
  ['**/*.md', '!docs/**'],
  ['docs', '!docs/sub/*.md'],
  ['*', '!src', 'src/gen', '!src/gen/keep.o'],
  ['**/logs', '!x/logs/b.log'],
  ['foo*', '!foobar/x'],
  ['/build/*', '!build/keep', '# a comment', '', '  .git  '],
  [String.raw`weird\[1\].txt`, 'dir.with.dots', './docs/../src/gen/'],
  ['src/**/*.o', '!**/keep.o', '**/sub', '!docs/sub/x.md'],
];

function listFiles(dir: string, rel = ''): string[] {
  return readdirSync(join(dir, rel)).flatMap((name) => {
    const path = rel ? `${rel}/${name}` : name;
    return lstatSync(join(dir, path)).isDirectory() ? listFiles(dir, path) : [path];
  });
}

describe('.dockerignore: the hashed context is what the engine transfers', { timeout: 5 * 60_000 }, () => {
  it(`for ${SETS.length} pattern sets`, async () => {
    const root = mkdtempSync(join(tmpdir(), 'iw-ignore-engine-'));
    try {
      const results = await Promise.all(
        SETS.map(async (set, index) => {
          const context = join(root, `ctx${index}`);
          for (const file of FILES) {
            mkdirSync(join(context, dirname(file)), { recursive: true });
            writeFileSync(join(context, file), file);
          }
          writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nCOPY . /\n');
          writeFileSync(join(context, '.dockerignore'), `${set.join('\n')}\n`);
          const out = join(root, `out${index}`);
          await docker(['build', '--quiet', '--output', `type=local,dest=${out}`, context]);
          const transferred = listFiles(out).filter((file) => file !== 'Dockerfile').sort();
          const hashed = Object.keys((await hashContext(context, join(context, 'Dockerfile'))).files).sort();
          return { set, transferred, hashed };
        }),
      );
      for (const { set, transferred, hashed } of results) {
        const kept = FILES.filter((file) => transferred.includes(file)).length;
        assert.ok(kept > 0 && kept < FILES.length, `${JSON.stringify(set)} leaves some files in and some out`);
        assert.deepEqual(hashed, transferred, `.dockerignore ${JSON.stringify(set)}`);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
