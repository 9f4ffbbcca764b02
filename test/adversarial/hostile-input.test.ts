/**
 * Hostile input (issue 13, item 3): what a pull request can put in a repository. Each case gets a
 * clear exit 2 naming the file and location, within its time and memory bounds, and leaves the
 * folder as it was. docs/failure-classes.md lists the cases; keep the two in step.
 */
import { execFileSync } from 'node:child_process';
import { symlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertRefused, fixture, oneImageManifest, runMeasured, snapshotTree, type Expected } from '../helpers/adversarial.js';

interface HostileCase {
  name: string;
  /** Under the fixture's root; the CLI runs in `repo/`, so that `outside/` is outside the repository. */
  files: Record<string, string | Buffer | object>;
  /** Extra setup after the files are written (symlinks, FIFOs). */
  setup?: (dir: string) => void;
  args: string[];
  expected: Expected;
}

/** Offline: `graph` reads the manifest and the Dockerfiles; `plan` would also hash contexts. */
const GRAPH = ['graph'];
const P0 = String.raw`repos\[0\]\.images\[0\]\.platforms\[0\]`;
const SMALL = { seconds: 15, maxRssMb: 400 };

const cases: HostileCase[] = [
  {
    name: 'a Dockerfile that is a symlink leading outside the repository',
    files: { 'repo/manifest.json': oneImageManifest(), 'outside/Dockerfile': 'FROM scratch\n' },
    setup: (root) => symlinkSync(join(root, 'outside'), join(root, 'repo', 'app')),
    args: GRAPH,
    expected: { code: 2, file: 'manifest.json', location: new RegExp(`${P0}\\.dockerfile \\(line \\d+\\)`), problem: /outside the manifest's folder/, ...SMALL },
  },
  {
    name: 'an include that is a FIFO (read without end before)',
    files: { 'repo/manifest.json': { ...oneImageManifest(), includes: ['more.json'] }, 'repo/app/Dockerfile': 'FROM scratch\n' },
    setup: (root) => execFileSync('mkfifo', [join(root, 'repo', 'more.json')]),
    args: GRAPH,
    expected: { code: 2, file: 'manifest.json', location: /includes\[0\] \(line \d+\)/, problem: /included file "more\.json" is not a regular file/, ...SMALL },
  },
  {
    name: 'an include that is a symlink to /dev/zero (read 16 GB before)',
    files: { 'repo/manifest.json': { ...oneImageManifest(), includes: ['zero.json'] }, 'repo/app/Dockerfile': 'FROM scratch\n' },
    setup: (root) => symlinkSync('/dev/zero', join(root, 'repo', 'zero.json')),
    args: GRAPH,
    expected: { code: 2, file: 'manifest.json', location: /includes\[0\] \(line \d+\)/, problem: /included file "zero\.json" is not a regular file/, ...SMALL },
  },
  {
    name: 'a manifest over 4 MB (a 10 MB string overflowed the stack before)',
    files: { 'repo/manifest.json': `{"registry": "127.0.0.1:5000", "x": "${'a'.repeat(10 * 1024 * 1024)}", "repos": []}\n` },
    args: GRAPH,
    expected: { code: 2, file: 'manifest.json', location: /(?:)/, problem: /^manifest is larger than 4194304 bytes/, ...SMALL },
  },
];

describe('hostile input: exit 2, one line naming file and location, bounded time and memory, nothing written', { timeout: 10 * 60_000 }, () => {
  for (const testCase of cases) {
    it(testCase.name, async () => {
      const root = await fixture(testCase.files);
      try {
        testCase.setup?.(root);
        const before = snapshotTree(root);
        const run = await runMeasured(testCase.args, { cwd: join(root, 'repo'), killAfterSeconds: testCase.expected.seconds * 4 });
        assertRefused(run, testCase.expected, root, before);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  }
});
