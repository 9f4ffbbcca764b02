import assert from 'node:assert/strict';
import { test } from 'node:test';
import { digestHex, digestOfReference, isSha256, sha256Digest, sha256Stream, shortDigest } from '../../src/digest.js';

const EMPTY = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const ABC = 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

test('sha256Digest gives the OCI form of the known sha256 test vectors', () => {
  assert.equal(sha256Digest(''), EMPTY);
  assert.equal(sha256Digest('abc'), ABC);
  assert.equal(sha256Digest(Buffer.from('abc')), ABC, 'a string counts as its UTF-8 bytes');
});

test('sha256Stream over chunks equals sha256Digest over the whole', () => {
  const stream = sha256Stream();
  stream.update(Buffer.from('a'));
  stream.update(Buffer.from('bc'));
  assert.equal(stream.digest(), ABC);
});

test('digestOfReference cuts the digest out of a reference and leaves bare digests alone', () => {
  assert.equal(digestOfReference(`127.0.0.1:5000/base/busybox@${ABC}`), ABC);
  assert.equal(digestOfReference(`127.0.0.1:5000/base/busybox:1.36@${ABC}`), ABC, 'a tag before the digest is dropped too');
  assert.equal(digestOfReference(ABC), ABC);
  assert.equal(digestOfReference(''), '');
});

test('shortDigest keeps the algorithm and 12 hex digits, and names an empty digest', () => {
  assert.equal(shortDigest(ABC), 'sha256:ba7816bf8f01');
  assert.equal(shortDigest(`mcr.microsoft.com/dotnet/runtime@${ABC}`), 'sha256:ba7816bf8f01');
  assert.equal(shortDigest(''), 'none');
});

test('digestHex and isSha256 see the algorithm prefix', () => {
  assert.equal(digestHex(ABC), ABC.slice('sha256:'.length));
  assert.equal(isSha256(ABC), true);
  assert.equal(isSha256('sha512:00'), false);
});
