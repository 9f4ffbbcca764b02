import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { expandWord, refersToVariable, splitCsvFields, unquoteFlagValue, WordError } from '../../src/dockerfile/words.js';

const vars: Record<string, string> = { REPO: 'mcr.microsoft.com/dotnet', TAG: '8.0-jammy', EMPTY: '', PATH_ISH: 'a/b/c/b' };
const lookup = (name: string): string | undefined => (Object.hasOwn(vars, name) ? vars[name] : undefined);
const expand = (word: string, escape = '\\'): string => expandWord(word, escape, lookup).value;

describe('expandWord: variable forms', () => {
  it('substitutes $VAR and ${VAR}', () => {
    assert.equal(expand('$REPO/runtime:${TAG}'), 'mcr.microsoft.com/dotnet/runtime:8.0-jammy');
  });

  it('stops a bare name at the first character that cannot be in a name', () => {
    assert.equal(expand('$TAG-x'), '8.0-jammy-x');
    assert.equal(expand('$TAG.x'), '8.0-jammy.x');
  });

  it('expands an unset variable to the empty string', () => {
    assert.equal(expand('alpine$NOPE'), 'alpine');
    assert.equal(expand('alpine${NOPE}'), 'alpine');
  });

  it('distinguishes ${X:-d} (unset or empty) from ${X-d} (unset only)', () => {
    assert.equal(expand('${NOPE:-d}'), 'd');
    assert.equal(expand('${NOPE-d}'), 'd');
    assert.equal(expand('${EMPTY:-d}'), 'd');
    assert.equal(expand('${EMPTY-d}'), '');
    assert.equal(expand('${TAG:-d}'), '8.0-jammy');
  });

  it('distinguishes ${X:+alt} from ${X+alt}', () => {
    assert.equal(expand('${TAG:+-$TAG}'), '-8.0-jammy');
    assert.equal(expand('${NOPE:+alt}'), '');
    assert.equal(expand('${EMPTY:+alt}'), '');
    assert.equal(expand('${EMPTY+alt}'), 'alt');
  });

  it('expands nested defaults', () => {
    assert.equal(expand('${NOPE:-${ALSO_NOPE:-inner}}'), 'inner');
    assert.equal(expand('${NOPE:-${TAG}}'), '8.0-jammy');
  });

  it('fails ${X:?message} and ${X?message} when unset', () => {
    assert.throws(() => expand('${NOPE:?must be set}'), /NOPE: must be set/);
    assert.throws(() => expand('${EMPTY:?}'), /EMPTY: is not allowed to be empty/);
    assert.equal(expand('${EMPTY?}'), '');
  });

  it('removes prefixes and suffixes by shell pattern, shortest or longest', () => {
    assert.equal(expand('${PATH_ISH#*/}'), 'b/c/b');
    assert.equal(expand('${PATH_ISH##*/}'), 'b');
    assert.equal(expand('${PATH_ISH%/*}'), 'a/b/c');
    assert.equal(expand('${PATH_ISH%%/*}'), 'a');
    assert.equal(expand('${TAG%-*}'), '8.0');
  });

  it('replaces the first or every match', () => {
    assert.equal(expand('${PATH_ISH/b/x}'), 'a/x/c/b');
    assert.equal(expand('${PATH_ISH//b/x}'), 'a/x/c/x');
  });

  it('lists the variables a word refers to, including those only in defaults', () => {
    assert.deepEqual(expandWord('${A:-$B}:$A', '\\', lookup).variables, ['A', 'B']);
  });

  it('leaves a lone or trailing $ alone', () => {
    assert.equal(expand('a$'), 'a$');
    assert.equal(expand('$/x'), '$/x');
  });
});

describe('expandWord: quotes and escapes', () => {
  it('removes quotes; single quotes stop substitution, double quotes do not', () => {
    assert.equal(expand('"$TAG"'), '8.0-jammy');
    assert.equal(expand("'$TAG'"), '$TAG');
    assert.equal(expand('"a b"'), 'a b');
  });

  it('escapes with the Dockerfile escape character', () => {
    assert.equal(expand('\\$TAG'), '$TAG');
    assert.equal(expand('`$TAG', '`'), '$TAG');
    // With escape=` a backslash is an ordinary character (Windows paths).
    assert.equal(expand('C:\\$TAG', '`'), 'C:\\8.0-jammy');
  });
});

describe('expandWord: malformed words', () => {
  for (const [word, message] of [
    ['${TAG', /missing '}'/],
    ['${TAG:-x', /missing '}'/],
    ['${', /missing '}'/],
    ['${}', /bad substitution/],
    ['${:x}', /bad substitution/],
    ['${TAG:#x}', /unsupported modifier/],
    ['${TAG!}', /unsupported modifier/],
    ['"abc', /unterminated double quote/],
    ["'abc", /unterminated single quote/],
  ] as const) {
    it(`rejects ${word}`, () => {
      assert.throws(() => expand(word), (err: unknown) => err instanceof WordError && message.test(err.message));
    });
  }
});

describe('flag helpers', () => {
  it('refersToVariable tells literal values from ones with variables', () => {
    assert.equal(refersToVariable('builder', '\\'), false);
    assert.equal(refersToVariable('$X', '\\'), true);
    assert.equal(refersToVariable('img:${TAG}', '\\'), true);
    assert.equal(refersToVariable('a$', '\\'), false);
  });

  it('unquoteFlagValue removes quotes and escapes like BuildKit flag extraction', () => {
    assert.equal(unquoteFlagValue('"builder"', '\\'), 'builder');
    assert.equal(unquoteFlagValue("'linux/arm64'", '\\'), 'linux/arm64');
    assert.equal(unquoteFlagValue('a\\"b', '\\'), 'a"b');
  });

  it('splitCsvFields splits on commas and honours double-quoted fields', () => {
    assert.deepEqual(splitCsvFields('type=bind,from=x,target=/y'), ['type=bind', 'from=x', 'target=/y']);
    assert.deepEqual(splitCsvFields('"from=a,b",target=/y'), ['from=a,b', 'target=/y']);
    assert.deepEqual(splitCsvFields('"say ""hi""",x'), ['say "hi"', 'x']);
    assert.throws(() => splitCsvFields('"from=x'), WordError);
  });
});
