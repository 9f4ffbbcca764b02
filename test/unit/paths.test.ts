/** How files are named in messages: relative to the working directory when inside it, else absolute. */
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { displayPath } from '../../src/paths.js';

describe('displayPath', () => {
  const cwd = process.cwd();
  it('names a file inside the working directory relatively, one outside absolutely', () => {
    assert.equal(displayPath(join(cwd, 'src', 'manifest.json')), join('src', 'manifest.json'));
    assert.equal(displayPath(resolve(cwd, '..', 'elsewhere.json')), resolve(cwd, '..', 'elsewhere.json'));
    assert.equal(displayPath(cwd), cwd, 'the directory itself has no shorter name');
  });

  it('a name that only begins with two dots is inside', () => {
    assert.equal(displayPath(join(cwd, '..hidden', 'manifest.json')), join('..hidden', 'manifest.json'));
  });
});
