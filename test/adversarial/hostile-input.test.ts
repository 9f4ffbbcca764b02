/**
 * Hostile input (issue 13, item 3): what a pull request can put in a repository. Each case gets a
 * clear exit 2 naming the file and location, within its time and memory bounds, and leaves the
 * folder as it was. docs/failure-classes.md lists the cases; keep the two in step.
 */
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertBounded, assertRefused, fixture, oneImageManifest, runMeasured, snapshotTree, type Bounds, type Expected } from '../helpers/adversarial.js';
import { engineProcessEnv, uniqueRepoPrefix } from '../helpers/engine.js';

interface HostileCase {
  name: string;
  /** Under the fixture's root; the CLI runs in `repo/`, so that `outside/` is outside the repository. */
  files: Record<string, string | Buffer | object>;
  /** Extra setup after the files are written (symlinks, FIFOs). */
  setup?: (dir: string) => void;
  args: string[];
  /** Refused (exit 2 with one line naming file and location), or accepted within bounds. */
  expected: Expected | Bounds;
}

/** Offline: `graph` reads the manifest and the Dockerfiles; `plan` also hashes contexts (and reads .dockerignore). */
const GRAPH = ['graph'];
const PLAN = ['plan', '--image-info', 'image-info.json'];
/** A platform whose context is `app/`, with its .dockerignore as given. */
const withIgnore = (ignore: string | undefined, more: Record<string, string> = {}): Record<string, string | object> => ({
  'repo/manifest.json': oneImageManifest(),
  'repo/app/Dockerfile': 'FROM scratch\nCOPY . /\n',
  ...(ignore === undefined ? {} : { 'repo/app/.dockerignore': ignore }),
  ...more,
});
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
    expected: { code: 2, file: 'manifest.json', location: /includes\[0\] \(line \d+\)/, problem: /included file "zero\.json" leads outside the manifest's folder through a symbolic link/, ...SMALL },
  },
  {
    name: 'a manifest over 4 MB (a 10 MB string overflowed the stack before)',
    files: { 'repo/manifest.json': `{"registry": "127.0.0.1:5000", "x": "${'a'.repeat(10 * 1024 * 1024)}", "repos": []}\n` },
    args: GRAPH,
    expected: { code: 2, file: 'manifest.json', location: /(?:)/, problem: /^manifest is larger than 4194304 bytes/, ...SMALL },
  },
  {
    name: 'a manifest of 41 KB of nested brackets (used 4.3 GB before)',
    files: { 'repo/manifest.json': `{"registry": "127.0.0.1:5000", "x": ${'['.repeat(20_500)}${']'.repeat(20_500)}, "repos": []}\n` },
    args: GRAPH,
    expected: { code: 2, file: 'manifest.json', location: /line 1, column 100/, problem: /nested deeper than 64 levels$/, ...SMALL },
  },
  {
    name: 'a manifest of deeply nested objects (overflowed the stack before)',
    files: { 'repo/manifest.json': `{"registry": "127.0.0.1:5000", "x": ${'{"a":'.repeat(8000)}1${'}'.repeat(8000)}, "repos": []}\n` },
    args: GRAPH,
    expected: { code: 2, file: 'manifest.json', location: /line 1, column 352/, problem: /nested deeper than 64 levels$/, ...SMALL },
  },
  {
    name: 'a repository name of 1 MB, under the file size limit',
    files: { 'repo/manifest.json': JSON.stringify({ registry: '127.0.0.1:5000', repos: [{ name: 'a'.repeat(1024 * 1024), images: [] }] }) },
    args: GRAPH,
    expected: { code: 2, file: 'manifest.json', location: /line 1, column 47/, problem: /string longer than 65536 characters$/, ...SMALL },
  },
  {
    name: 'an include that is a symlink leading outside the repository',
    files: { 'repo/manifest.json': { ...oneImageManifest(), includes: ['more.json'] }, 'repo/app/Dockerfile': 'FROM scratch\n', 'outside/more.json': { repos: [] } },
    setup: (root) => symlinkSync(join(root, 'outside', 'more.json'), join(root, 'repo', 'more.json')),
    args: GRAPH,
    expected: { code: 2, file: 'manifest.json', location: /includes\[0\] \(line \d+\)/, problem: /included file "more\.json" leads outside the manifest's folder through a symbolic link$/, ...SMALL },
  },
  {
    name: 'an include of ../ leading outside the repository',
    files: { 'repo/manifest.json': { ...oneImageManifest(), includes: ['../outside/more.json'] }, 'repo/app/Dockerfile': 'FROM scratch\n', 'outside/more.json': { repos: [] } },
    args: GRAPH,
    expected: { code: 2, file: 'manifest.json', location: /includes\[0\] \(line \d+\)/, problem: /leads outside the manifest's folder$/, ...SMALL },
  },
  {
    name: 'a Dockerfile with a 10 MB line (used 2.5 GB before)',
    files: { 'repo/manifest.json': oneImageManifest(), 'repo/app/Dockerfile': `FROM scratch\nLABEL x=${'a'.repeat(10 * 1024 * 1024)}\n` },
    args: GRAPH,
    expected: { code: 2, file: 'app/Dockerfile', location: /(?:)/, problem: /^Dockerfile is larger than 1048576 bytes$/, ...SMALL },
  },
  {
    name: 'a Dockerfile with a 100 KB line, under the size limit',
    files: { 'repo/manifest.json': oneImageManifest(), 'repo/app/Dockerfile': `FROM scratch\nLABEL x=${'a'.repeat(100 * 1024)}\n` },
    args: GRAPH,
    expected: { code: 2, file: 'app/Dockerfile', location: /line 2/, problem: /line is longer than 65535 bytes \(Docker's parser refuses it too\)$/, ...SMALL },
  },
  {
    name: 'a Dockerfile of one RUN continued over 1,000 lines of 1 KB, just under the size limit: read in bounded memory',
    files: {
      'repo/manifest.json': oneImageManifest(),
      'repo/app/Dockerfile': `FROM scratch\nRUN echo \\\n${`  ${'a'.repeat(1000)} \\\n`.repeat(1000)}  end\n`,
    },
    args: GRAPH,
    expected: { code: 0, seconds: 30, maxRssMb: 500 },
  },
  {
    name: 'a .dockerignore with a 31-star pattern and a long name (over 300 s before): planned',
    files: withIgnore(`${'*a'.repeat(31)}\n`, { [`repo/app/${'a'.repeat(30)}${'b'.repeat(200)}`]: 'x' }),
    args: PLAN,
    expected: { code: 0, ...SMALL },
  },
  {
    name: 'a .dockerignore with a malformed pattern',
    files: withIgnore('*.md\nsrc/[a-\n'),
    args: PLAN,
    expected: { code: 2, file: 'app/.dockerignore', location: /line 2/, problem: /invalid pattern: a character class/, ...SMALL },
  },
  {
    name: 'a .dockerignore line over 64 KiB',
    files: withIgnore(`*.md\n${'x'.repeat(100 * 1024)}\n`),
    args: PLAN,
    expected: { code: 2, file: 'app/.dockerignore', location: /line 2/, problem: /line is longer than 65535 bytes/, ...SMALL },
  },
  {
    name: 'a .dockerignore that is a symlink leading outside the repository',
    files: withIgnore(undefined, { 'outside/ignore': '*.md\n' }),
    setup: (root) => symlinkSync(join(root, 'outside', 'ignore'), join(root, 'repo', 'app', '.dockerignore')),
    args: PLAN,
    expected: { code: 2, file: 'app/.dockerignore', location: /(?:)/, problem: /^ignore file is a symbolic link leading outside the build context$/, ...SMALL },
  },
  {
    name: 'a .dockerignore that is a FIFO',
    files: withIgnore(undefined),
    setup: (root) => execFileSync('mkfifo', [join(root, 'repo', 'app', '.dockerignore')]),
    args: PLAN,
    expected: { code: 2, file: 'app/.dockerignore', location: /(?:)/, problem: /^ignore file is not a regular file$/, ...SMALL },
  },
  // Control characters (issue 13 item 3): rejected where they would become a name, tag, path or arg.
  {
    name: 'a tag holding a terminal escape sequence',
    files: { 'repo/manifest.json': oneImageManifest({ platform: { tags: { '1\u001b[2J': {} } } }), 'repo/app/Dockerfile': 'FROM scratch\n' },
    args: GRAPH,
    expected: { code: 2, file: 'manifest.json', location: new RegExp(`${P0}\\.tags\\["1\\\\u001b\\[2J"\\] \\(line \\d+\\)`), problem: /contains control character U\+001B/, ...SMALL },
  },
  {
    name: 'a repository name holding a C1 control (CSI)',
    files: { 'repo/manifest.json': { registry: '127.0.0.1:5000', repos: [{ name: 'team/\u009b31mapp', images: [] }] } },
    args: GRAPH,
    expected: { code: 2, file: 'manifest.json', location: /repos\[0\]\.name \(line \d+\)/, problem: /contains control character U\+009B/, ...SMALL },
  },
  {
    name: 'a Dockerfile path holding an escape sequence (the folder exists)',
    files: { 'repo/manifest.json': oneImageManifest({ platform: { dockerfile: 'app\u001b[31m' } }), 'repo/app\u001b[31m/Dockerfile': 'FROM scratch\n' },
    args: GRAPH,
    expected: { code: 2, file: 'manifest.json', location: new RegExp(`${P0}\\.dockerfile \\(line \\d+\\)`), problem: /contains control character U\+001B/, ...SMALL },
  },
  {
    name: 'a build arg value holding a NUL byte',
    files: { 'repo/manifest.json': oneImageManifest({ platform: { buildArgs: { X: 'a\u0000b' } } }), 'repo/app/Dockerfile': 'FROM scratch\nARG X\n' },
    args: GRAPH,
    expected: { code: 2, file: 'manifest.json', location: new RegExp(`${P0}\\.buildArgs\\.X \\(line \\d+\\)`), problem: /contains control character U\+0000/, ...SMALL },
  },
  {
    name: 'a --var value holding an escape sequence',
    files: { 'repo/manifest.json': oneImageManifest(), 'repo/app/Dockerfile': 'FROM scratch\n' },
    args: [...GRAPH, '--var', 'v=\u001b[2J'],
    expected: { code: 2, file: '--var v', location: /(?:)/, problem: /^the value contains a control character$/, ...SMALL },
  },
  {
    name: 'a --manifest path holding an escape sequence: shown escaped',
    files: { 'repo/manifest.json': oneImageManifest() },
    args: [...GRAPH, '--manifest', '\u001b[31mm.json'],
    expected: { code: 2, file: String.raw`\u001b[31mm.json`, location: /(?:)/, problem: /^manifest does not exist$/, ...SMALL },
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
        if ('file' in testCase.expected) assertRefused(run, testCase.expected, root, before);
        else assertBounded(run, testCase.expected, root, before);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  }
});

describe('control characters in file names: shown escaped on every channel, never raw', { timeout: 5 * 60_000 }, () => {
  it('plan text, plan JSON and graph name a context file holding ESC, BEL and CSI escaped', async () => {
    const root = await fixture({ 'repo/manifest.json': oneImageManifest(), 'repo/app/Dockerfile': 'FROM scratch\nCOPY . /\n', 'repo/app/a.txt': 'a' });
    try {
      const repo = join(root, 'repo');
      const common = ['--image-info', 'image-info.json', '--repo-prefix', `${uniqueRepoPrefix('escape')}/`];
      const env = engineProcessEnv();
      const built = await runMeasured(['build', ...common], { cwd: repo, env, killAfterSeconds: 240 });
      assert.equal(built.code, 0, built.stderr);
      // A pull request adds a file whose name would drive the terminal.
      const hostile = 'x\u001b[2J\u0007\u009b31m.txt';
      writeFileSync(join(repo, 'app', hostile), 'new');
      const before = snapshotTree(root);
      const escaped = String.raw`x\u001b[2J\u0007\u009b31m.txt`;
      const text = await runMeasured(['plan', ...common], { cwd: repo, env });
      assertBounded(text, { code: 0, ...SMALL }, root, before);
      assert.ok(text.stdout.includes(escaped), `plan text names the file escaped:\n${text.stdout}`);
      const json = await runMeasured(['plan', '--format', 'json', ...common], { cwd: repo, env });
      assertBounded(json, { code: 0, ...SMALL }, root, before);
      assert.ok(JSON.stringify(JSON.parse(json.stdout)).includes(JSON.stringify(hostile).slice(1, -1)), 'plan JSON is JSON and means the same name');
      assert.ok(json.stdout.includes(String.raw`\u009b`), 'the C1 character, which JSON.stringify leaves raw, is escaped too');
      const graph = await runMeasured(['graph'], { cwd: repo, env });
      assertBounded(graph, { code: 0, ...SMALL }, root, before);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
