/**
 * .dockerignore patterns as BuildKit applies them (moby/patternmatcher through fsutil's walk), and
 * matching that stays linear in the path whatever the pattern. test/integration/dockerignore-engine.test.ts
 * compares whole contexts with what the real engine transfers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIgnore } from '../../src/context/ignore.js';
import { InputError } from '../../src/errors.js';

/** Which of `paths` the rules leave out, walking parents first as BuildKit does. */
function excluded(lines: string[], paths: string[]): string[] {
  const rules = parseIgnore(lines.join('\n'));
  return paths.filter((rel) => rules.ignores(rel));
}

describe('.dockerignore patterns', () => {
  const cases: Array<[pattern: string, path: string, matches: boolean]> = [
    ['**', 'dir/file', true],
    ['**/', 'file', true],
    ['dir/**', 'dir/dir2/file', true],
    ['abc/**', 'abc', false],
    ['**/dir2/*', 'dir/dir2/file', true],
    ['**/foo/bar', 'foo/bar', true],
    ['**file', 'dir/dir/file', true],
    // patternmatcher's shortcut: a leading `**` is a plain suffix test, so this also matches.
    ['**file', 'myfile', true],
    ['**/*.txt', 'file.txt', true],
    ['a**/*.txt', 'a/dir/file.txt', true],
    ['a/*.txt', 'a/dir/file.txt', false],
    ['a[b-d]e', 'ace', true],
    ['a[b-d]e', 'aae', false],
    ['a[^b-d]e', 'aze', true],
    ['.*', '.foo', true],
    ['.*', 'foo', false],
    ['abc.def', 'abcZdef', false],
    ['abc?def', 'abcZdef', true],
    ['abc?def', 'abc/def', false],
    // Regular-expression characters mean themselves (Docker before 23 let `+` repeat).
    ['a+b.txt', 'a+b.txt', true],
    ['a+b.txt', 'aab.txt', false],
    ['(x|y)', '(x|y)', true],
    [String.raw`weird\[1\].txt`, 'weird[1].txt', true],
    ['/leading/slash', 'leading/slash', true],
    ['./dot/../cleaned/', 'cleaned', true],
    ['README.md', 'readme.md', false],
  ];
  for (const [pattern, path, matches] of cases) {
    it(`${JSON.stringify(pattern)} ${matches ? 'matches' : 'does not match'} ${JSON.stringify(path)}`, () => {
      assert.equal(parseIgnore(pattern).ignores(path), matches);
    });
  }

  it('a folder matched leaves out everything below it, and an exception brings back part of it', () => {
    const paths = ['build', 'build/keep', 'build/keep/me.txt', 'build/out.o', 'vendor', 'vendor/licenses', 'vendor/licenses/MIT.txt', 'vendor/lib.js'];
    assert.deepEqual(excluded(['build/*', '!build/keep', 'vendor', '!vendor/licenses/MIT.txt'], paths), ['build/out.o', 'vendor', 'vendor/licenses', 'vendor/lib.js']);
  });

  it('an exception with a glob reaches into an excluded folder (Docker clients before BuildKit 0.10 skipped the folder)', () => {
    assert.deepEqual(excluded(['**', '!**/*.c'], ['src', 'src/main.c', 'src/main.h']), ['src', 'src/main.h']);
  });

  it("an exception naming a folder brings back the folder, not files other patterns name (BuildKit's walk, as today's Docker)", () => {
    // Docker 20.10's client kept docs/r.md here; BuildKit's fsutil since 2022 leaves it out.
    assert.deepEqual(excluded(['**/*.md', '!docs'], ['docs', 'docs/r.md', 'docs/x.txt', 'a.md']), ['docs/r.md', 'a.md']);
  });

  it('later patterns win', () => {
    assert.deepEqual(excluded(['*.log', '!keep.log', 'keep.log'], ['a.log', 'keep.log']), ['a.log', 'keep.log']);
    assert.deepEqual(excluded(['keep.log', '*.log', '!keep.log'], ['a.log', 'keep.log']), ['a.log']);
  });

  it('comments, blank lines, a byte-order mark and CRLF line ends', () => {
    const rules = parseIgnore('\uFEFF# comment\r\n\r\n  spaced.txt  \r\n #not-a-comment\r\n');
    assert.equal(rules.ignores('spaced.txt'), true);
    assert.equal(rules.ignores('#not-a-comment'), true);
    assert.equal(rules.ignores('# comment'), false);
    assert.equal(rules.hasExceptions, false);
  });

  const malformed: Array<[text: string, line: number, problem: RegExp]> = [
    ['ok\n[', 2, /character class/],
    ['[]', 1, /character class/],
    ['a[b-]', 1, /character class/],
    ['trailing\\', 1, /lone backslash/],
    ['ok\n!\n', 2, /"!" alone/],
    ['[z-a]', 1, /invalid pattern/],
  ];
  for (const [text, line, problem] of malformed) {
    it(`refuses ${JSON.stringify(text)} naming line ${line}, as Docker fails the build`, () => {
      assert.throws(
        () => parseIgnore(text, 'app/.dockerignore'),
        (error: unknown) => error instanceof InputError && error.message.startsWith(`app/.dockerignore: line ${line}: `) && problem.test(error.message),
      );
    });
  }

  it('refuses a line of 64 KiB or more (Docker cannot read it either)', () => {
    assert.throws(
      () => parseIgnore(`ok\n${'x'.repeat(64 * 1024)}\n${'y'.repeat(65535)}`, '.dockerignore'),
      (error: unknown) => error instanceof InputError && error.message.startsWith('.dockerignore: line 2: line is longer than 65535 bytes'),
    );
  });

  it('matches in linear time: 31 stars against a long name', () => {
    const started = process.hrtime.bigint();
    const rules = parseIgnore(['*a'.repeat(31), `!${'?*'.repeat(40)}b`, '**/*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*c'].join('\n'));
    assert.equal(rules.ignores(`${'a'.repeat(30)}${'b'.repeat(5000)}`), false, 'one a short of 31');
    assert.equal(rules.ignores('a'.repeat(5000)), true);
    assert.equal(rules.ignores(`dir/${'a'.repeat(5000)}c`), true);
    assert.equal(rules.ignores(`dir/${'a'.repeat(5000)}b`), false);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    assert.ok(seconds < 2, `took ${seconds.toFixed(2)} s`);
  });
});
