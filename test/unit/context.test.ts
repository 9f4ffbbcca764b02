import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { clearContextCache, hashContext } from '../../src/context/index.js';
import { analyzeDockerfile } from '../../src/dockerfile/index.js';
import { InputError } from '../../src/errors.js';

let scratch: string;
before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'iw-context-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});
beforeEach(() => clearContextCache());

let counter = 0;
/** A fresh context folder holding `files` (path → content). */
async function context(files: Record<string, string>): Promise<string> {
  const dir = path.join(scratch, `ctx${counter++}`);
  await mkdir(dir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), content);
  }
  return dir;
}

function sha(content: string): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

describe('hashContext', () => {
  test('lists nested files by POSIX path with content digests, without the Dockerfile', async () => {
    const dir = await context({ Dockerfile: 'FROM scratch\n', 'app/main.sh': 'echo hi\n', 'app/lib/util.txt': 'u' });
    const hash = await hashContext(dir, path.join(dir, 'Dockerfile'));
    assert.deepEqual(hash.files, { 'app/lib/util.txt': sha('u'), 'app/main.sh': sha('echo hi\n') });
    assert.match(hash.digest, /^sha256:[0-9a-f]{64}$/);
  });

  test("excludes only the platform's own Dockerfile; a sibling platform's Dockerfile is context", async () => {
    const dir = await context({ Dockerfile: 'FROM a', 'Dockerfile.alpine': 'FROM b' });
    const debian = await hashContext(dir, path.join(dir, 'Dockerfile'));
    const alpine = await hashContext(dir, path.join(dir, 'Dockerfile.alpine'));
    assert.deepEqual(Object.keys(debian.files), ['Dockerfile.alpine']);
    assert.deepEqual(Object.keys(alpine.files), ['Dockerfile']);
  });

  test('the digest changes with content and stays put when nothing changed', async () => {
    const dir = await context({ Dockerfile: 'FROM a', 'a.txt': 'one' });
    const first = await hashContext(dir, path.join(dir, 'Dockerfile'));
    assert.equal((await hashContext(dir, path.join(dir, 'Dockerfile'))).digest, first.digest);
    await writeFile(path.join(dir, 'a.txt'), 'two');
    const second = await hashContext(dir, path.join(dir, 'Dockerfile'));
    assert.notEqual(second.digest, first.digest);
    assert.equal(second.files['a.txt'], sha('two'));
  });

  test('renaming a file changes the digest', async () => {
    const a = await context({ Dockerfile: 'FROM a', 'a.txt': 'same' });
    const b = await context({ Dockerfile: 'FROM a', 'b.txt': 'same' });
    assert.notEqual((await hashContext(a, path.join(a, 'Dockerfile'))).digest, (await hashContext(b, path.join(b, 'Dockerfile'))).digest);
  });

  test('the executable bit changes the digest, other mode bits do not', async () => {
    const dir = await context({ Dockerfile: 'FROM a', 'run.sh': 'echo\n' });
    const file = path.join(dir, 'run.sh');
    await chmod(file, 0o644);
    const plain = await hashContext(dir, path.join(dir, 'Dockerfile'));
    await chmod(file, 0o600);
    assert.equal((await hashContext(dir, path.join(dir, 'Dockerfile'))).digest, plain.digest);
    await chmod(file, 0o755);
    const executable = await hashContext(dir, path.join(dir, 'Dockerfile'));
    assert.equal(executable.files['run.sh'], `${sha('echo\n')}+x`);
    assert.notEqual(executable.digest, plain.digest);
  });

  test('a change of mtime alone does not change the digest', async () => {
    const dir = await context({ Dockerfile: 'FROM a', 'a.txt': 'one' });
    const before = await hashContext(dir, path.join(dir, 'Dockerfile'));
    await utimes(path.join(dir, 'a.txt'), new Date('2001-01-01'), new Date('2001-01-01'));
    clearContextCache();
    assert.equal((await hashContext(dir, path.join(dir, 'Dockerfile'))).digest, before.digest);
  });

  test('symlinks are recorded by target, not followed', async () => {
    const dir = await context({ Dockerfile: 'FROM a', 'real/file.txt': 'content' });
    await symlink('real', path.join(dir, 'linked-dir'));
    await symlink('real/file.txt', path.join(dir, 'linked-file'));
    await symlink('/nowhere/at/all', path.join(dir, 'dangling'));
    const hash = await hashContext(dir, path.join(dir, 'Dockerfile'));
    assert.deepEqual(hash.files, {
      dangling: 'link:/nowhere/at/all',
      'linked-dir': 'link:real',
      'linked-file': 'link:real/file.txt',
      'real/file.txt': sha('content'),
    });
    await rm(path.join(dir, 'linked-file'));
    await symlink('elsewhere.txt', path.join(dir, 'linked-file'));
    assert.notEqual((await hashContext(dir, path.join(dir, 'Dockerfile'))).digest, hash.digest);
  });

  test('empty folders do not count', async () => {
    const dir = await context({ Dockerfile: 'FROM a', 'a.txt': 'one' });
    const before = await hashContext(dir, path.join(dir, 'Dockerfile'));
    await mkdir(path.join(dir, 'empty/nested'), { recursive: true });
    assert.equal((await hashContext(dir, path.join(dir, 'Dockerfile'))).digest, before.digest);
  });

  test('.dockerignore patterns with exceptions, ** and a leading /', async () => {
    const dir = await context({
      Dockerfile: 'FROM a',
      '.dockerignore': ['# comment', 'docs', '**/*.log', '!keep.log', '/secret.txt', 'build/*', '!build/keep/'].join('\n'),
      'docs/readme.md': 'x',
      'app.log': 'x',
      'keep.log': 'kept',
      'deep/er/trace.log': 'x',
      'secret.txt': 'x',
      'sub/secret.txt': 'not at the root',
      'build/out.o': 'x',
      'build/keep/me.txt': 'kept',
      'src/main.c': 'int main;',
    });
    const hash = await hashContext(dir, path.join(dir, 'Dockerfile'));
    assert.deepEqual(Object.keys(hash.files), ['.dockerignore', 'build/keep/me.txt', 'keep.log', 'src/main.c', 'sub/secret.txt']);
    assert.equal(hash.ignoreFile, '.dockerignore');
  });

  test('an exception brings back a file inside an excluded folder', async () => {
    const dir = await context({
      Dockerfile: 'FROM a',
      '.dockerignore': 'vendor\n!vendor/licenses/MIT.txt\n',
      'vendor/lib.js': 'x',
      'vendor/licenses/MIT.txt': 'mit',
      'vendor/licenses/GPL.txt': 'gpl',
    });
    const hash = await hashContext(dir, path.join(dir, 'Dockerfile'));
    assert.deepEqual(Object.keys(hash.files), ['.dockerignore', 'vendor/licenses/MIT.txt']);
  });

  test('patterns are case-sensitive, as Docker on Linux', async () => {
    const dir = await context({ Dockerfile: 'FROM a', '.dockerignore': 'README.md\n', 'readme.md': 'lower', 'README.md': 'upper' });
    assert.deepEqual(Object.keys((await hashContext(dir, path.join(dir, 'Dockerfile'))).files), ['.dockerignore', 'readme.md']);
  });

  test('an ignore file that excludes itself leaves only its effect', async () => {
    const dir = await context({ Dockerfile: 'FROM a', '.dockerignore': '.dockerignore\n*.tmp\n', 'a.txt': 'a', 'b.tmp': 'b' });
    const before = await hashContext(dir, path.join(dir, 'Dockerfile'));
    assert.deepEqual(Object.keys(before.files), ['a.txt']);
    await writeFile(path.join(dir, '.dockerignore'), '# same rules, new comment\n.dockerignore\n*.tmp\n');
    assert.equal((await hashContext(dir, path.join(dir, 'Dockerfile'))).digest, before.digest);
  });

  test('a Dockerfile excluded by the ignore file stays out', async () => {
    const dir = await context({ Dockerfile: 'FROM a', 'other.Dockerfile': 'FROM b', '.dockerignore': '*Dockerfile*\n.dockerignore\n', 'a.txt': 'a' });
    assert.deepEqual(Object.keys((await hashContext(dir, path.join(dir, 'Dockerfile'))).files), ['a.txt']);
  });

  test('<Dockerfile>.dockerignore takes precedence over .dockerignore', async () => {
    const dir = await context({
      Dockerfile: 'FROM a',
      'Dockerfile.alpine': 'FROM b',
      '.dockerignore': 'a.txt\n',
      'Dockerfile.alpine.dockerignore': 'b.txt\nDockerfile.alpine.dockerignore\n',
      'a.txt': 'a',
      'b.txt': 'b',
    });
    const debian = await hashContext(dir, path.join(dir, 'Dockerfile'));
    const alpine = await hashContext(dir, path.join(dir, 'Dockerfile.alpine'));
    assert.deepEqual(Object.keys(debian.files), ['.dockerignore', 'Dockerfile.alpine', 'Dockerfile.alpine.dockerignore', 'b.txt']);
    assert.equal(debian.ignoreFile, '.dockerignore');
    assert.deepEqual(Object.keys(alpine.files), ['.dockerignore', 'Dockerfile', 'a.txt']);
    assert.equal(alpine.ignoreFile, 'Dockerfile.alpine.dockerignore');
  });

  test('a Dockerfile in a subfolder uses the ignore file beside it', async () => {
    const dir = await context({
      'docker/app.Dockerfile': 'FROM a',
      'docker/app.Dockerfile.dockerignore': 'docker\n',
      '.dockerignore': 'src\n',
      'src/main.c': 'c',
    });
    const hash = await hashContext(dir, path.join(dir, 'docker/app.Dockerfile'));
    assert.deepEqual(Object.keys(hash.files), ['.dockerignore', 'src/main.c']);
    assert.equal(hash.ignoreFile, 'docker/app.Dockerfile.dockerignore');
  });

  test("imagewright's own files stay out: .imagewright/ anywhere, the run's image-info with its lock, takeover and temporary siblings", async () => {
    const own = {
      '.imagewright/logs/run.log': 'log',
      'sub/.imagewright/x': 'x',
      'state/image-info.json': '{}',
      'state/image-info.json.lock': 'pid',
      'state/image-info.json.lock.takeover-1': 't',
      'state/.image-info.json.42.abcdef.tmp': 'tmp',
    };
    const dir = await context({ Dockerfile: 'FROM a', 'a.txt': 'a', 'state/other.json': 'kept', ...own });
    const imageInfoFiles = [path.join(dir, 'state/image-info.json')];
    const hash = await hashContext(dir, path.join(dir, 'Dockerfile'), { imageInfoFiles });
    assert.deepEqual(Object.keys(hash.files), ['a.txt', 'state/other.json']);
    // The same digest as a context that never held them: a run writing image-info changes no key.
    const clean = await context({ Dockerfile: 'FROM a', 'a.txt': 'a', 'state/other.json': 'kept' });
    assert.equal(hash.digest, (await hashContext(clean, path.join(clean, 'Dockerfile'))).digest);
    // An image-info file the run does not name is an ordinary file.
    assert.ok('state/image-info.json' in (await hashContext(dir, path.join(dir, 'Dockerfile'))).files);
  });

  test("an ignore file's exception cannot bring imagewright's own files back", async () => {
    const dir = await context({ Dockerfile: 'FROM a', '.dockerignore': '*\n!*\n!.imagewright\n!image-info.json\n', 'a.txt': 'a', '.imagewright/logs/x.log': 'x', 'image-info.json': '{}' });
    const hash = await hashContext(dir, path.join(dir, 'Dockerfile'), { imageInfoFiles: [path.join(dir, 'image-info.json')] });
    assert.deepEqual(Object.keys(hash.files), ['.dockerignore', 'a.txt']);
  });

  /** The context as a build of `dockerfile` reads it (its sources analyzed as plan analyzes them). */
  async function reached(dir: string, dockerfile: string, windows = false): Promise<Awaited<ReturnType<typeof hashContext>>> {
    const use = analyzeDockerfile(dockerfile, { file: 'Dockerfile', buildArgs: {}, platform: { os: windows ? 'windows' : 'linux', architecture: 'amd64' } }).context;
    return hashContext(dir, path.join(dir, 'Dockerfile'), { ...(use ? { use } : {}), ignoreCase: windows });
  }

  test("only the files the Dockerfile's sources reach: files, folders with all below them, wildcards in one segment, after the ignore file", async () => {
    const dir = await context({
      Dockerfile: 'x',
      '.dockerignore': 'tools/*.tmp\n',
      'root.txt': 'r',
      'tools/a.sh': 'a',
      'tools/b.tmp': 'b',
      'tools/sub/c.sh': 'c',
      'scripts/x.sh': 'x',
      'scripts/deep/y.sh': 'y',
      'scripts/z.txt': 'z',
      'other-platform/Dockerfile': 'FROM y',
      'other-platform/data.txt': 'd',
    });
    const hash = await reached(dir, 'FROM busybox\nCOPY root.txt tools/ /d/\nCOPY scripts/*.sh /s/\n');
    assert.deepEqual(Object.keys(hash.files), ['root.txt', 'scripts/x.sh', 'tools/a.sh', 'tools/sub/c.sh']);
    assert.equal(hash.whole, undefined);
    assert.equal(hash.missing, undefined);
    // A file no source reaches changes nothing; a reached one changes the digest.
    await writeFile(path.join(dir, 'other-platform/data.txt'), 'changed');
    assert.equal((await reached(dir, 'FROM busybox\nCOPY root.txt tools/ /d/\nCOPY scripts/*.sh /s/\n')).digest, hash.digest);
    await writeFile(path.join(dir, 'tools/sub/c.sh'), 'changed');
    assert.notEqual((await reached(dir, 'FROM busybox\nCOPY root.txt tools/ /d/\nCOPY scripts/*.sh /s/\n')).digest, hash.digest);
  });

  test('COPY . and a bind mount without source read everything; no source reads nothing', async () => {
    const dir = await context({ Dockerfile: 'x', 'a.txt': 'a', 'b/c.txt': 'c' });
    assert.deepEqual(Object.keys((await reached(dir, 'FROM busybox\nCOPY . /d/\n')).files), ['a.txt', 'b/c.txt']);
    assert.deepEqual(Object.keys((await reached(dir, 'FROM busybox\nRUN --mount=target=/ctx cp -r /ctx /d\n')).files), ['a.txt', 'b/c.txt']);
    assert.deepEqual((await reached(dir, 'FROM busybox\nRUN true\n')).files, {});
  });

  test('a source known only at build time keys the whole context and says why', async () => {
    const dir = await context({ Dockerfile: 'x', 'a.txt': 'a', 'b/c.txt': 'c' });
    const hash = await reached(dir, 'FROM busybox\nCOPY $SRC /d/\n');
    assert.deepEqual(Object.keys(hash.files), ['a.txt', 'b/c.txt']);
    assert.match(hash.whole ?? '', /^line 2: COPY \$SRC: /);
  });

  test('a source that reaches nothing is reported, absent or left out by the ignore file', async () => {
    const dir = await context({ Dockerfile: 'x', '.dockerignore': 'secret.txt\n', 'secret.txt': 's', 'empty/.keep': '' });
    await rm(path.join(dir, 'empty/.keep'));
    const hash = await reached(dir, 'FROM busybox\nCOPY eng/common/cross/ /scripts/\nCOPY secret.txt empty/ /d/\nCOPY *.none /d/\n');
    assert.deepEqual(
      hash.missing?.map((m) => [m.source.line, m.source.written, m.why]),
      [
        [2, 'eng/common/cross/', 'absent'],
        [3, 'secret.txt', 'ignored'],
        [4, '*.none', 'absent'],
      ],
    );
  });

  test('a source that is a symlink reaches its target; Windows sources match in any case', async () => {
    const dir = await context({ Dockerfile: 'x', 'real/f.txt': 'f', 'Fonts/Arial.TTF': 'font' });
    await symlink('real', path.join(dir, 'current'));
    assert.deepEqual(Object.keys((await reached(dir, 'FROM busybox\nCOPY current /d/\n')).files), ['current', 'real/f.txt']);
    assert.deepEqual(Object.keys((await reached(dir, '# escape=`\nFROM nanoserver\nCOPY fonts\\arial.ttf C:/w/\n', true)).files), ['Fonts/Arial.TTF']);
  });

  test('a large file is hashed by streaming and gives the same digest as a whole read would', async () => {
    const big = 'x'.repeat(3 * 1024 * 1024 + 17);
    const dir = await context({ Dockerfile: 'FROM a', 'big.bin': big });
    assert.equal((await hashContext(dir, path.join(dir, 'Dockerfile'))).files['big.bin'], sha(big));
  });

  test('a missing context folder is an InputError naming it', async () => {
    const missing = path.join(scratch, 'no-such-folder');
    await assert.rejects(hashContext(missing, path.join(missing, 'Dockerfile')), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.match(error.message, /no-such-folder: build context folder not found$/);
      return true;
    });
  });

  test('an unreadable file is an InputError naming the file', { skip: process.platform === 'win32' }, async () => {
    const dir = await context({ Dockerfile: 'FROM a', 'locked.txt': 'secret' });
    await chmod(scratch, 0o755);
    await chmod(dir, 0o755);
    await chmod(path.join(dir, 'locked.txt'), 0o000);
    // root reads anything, so the check runs as an unprivileged user when we are root. That user may not
    // be able to read the repository (CI clones into a private folder), so the check is bundled, with its
    // dependencies, into the scratch folder first.
    const entry = `
      import { hashContext } from ${JSON.stringify(path.resolve(here, '../../src/context/index.ts'))};
      try { await hashContext(${JSON.stringify(dir)}, ${JSON.stringify(path.join(dir, 'Dockerfile'))}); console.log('no error'); }
      catch (e) { console.log(e.name + ' ' + e.message); }`;
    const bundle = path.join(scratch, 'check-unreadable.mjs');
    await build({
      stdin: { contents: entry, resolveDir: here, loader: 'ts' },
      outfile: bundle,
      bundle: true,
      platform: 'node',
      format: 'esm',
      logLevel: 'silent',
      banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    });
    await chmod(bundle, 0o644);
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const run = spawnSync(process.execPath, [bundle], { cwd: scratch, encoding: 'utf8', ...asUser });
    assert.equal(run.stderr, '');
    assert.match(run.stdout.trim(), /^InputError ctx\d+\/locked\.txt: cannot read file \(EACCES\)$/);
  });
});

const here = path.dirname(fileURLToPath(import.meta.url));
