import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatReference, isLoopbackRegistry, normalizeReference, parseReference, repositoryOf } from '../../src/reference.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('parseReference / normalizeReference', () => {
  const normalized: Array<[string, string]> = [
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['index.docker.io/library/busybox:1', 'docker.io/library/busybox:1'],
    ['registry-1.docker.io/library/busybox:1', 'docker.io/library/busybox:1'],
    ['someone/tool', 'docker.io/someone/tool:latest'],
    ['mcr.microsoft.com/dotnet/runtime:8.0-jammy', 'mcr.microsoft.com/dotnet/runtime:8.0-jammy'],
    ['localhost/app', 'localhost/app:latest'],
    ['localhost:5000/team/app:v1', 'localhost:5000/team/app:v1'],
    ['127.0.0.1:5000/base/busybox:1', '127.0.0.1:5000/base/busybox:1'],
    ['[::1]:5000/app:2', '[::1]:5000/app:2'],
    ['a/b/c/d', 'docker.io/a/b/c/d:latest'],
    ['my_app-x/my.app__y', 'docker.io/my_app-x/my.app__y:latest'],
    [`busybox@${DIGEST}`, `docker.io/library/busybox@${DIGEST}`],
    [`busybox:1@${DIGEST}`, `docker.io/library/busybox:1@${DIGEST}`],
    [`127.0.0.1:5000/base/app@${DIGEST}`, `127.0.0.1:5000/base/app@${DIGEST}`],
    // Without a slash, `host:port` reads as image:tag, as the Docker CLI reads it.
    ['localhost:5000', 'docker.io/library/localhost:5000'],
    ['  busybox  ', 'docker.io/library/busybox:latest'],
  ];
  for (const [input, expected] of normalized) {
    test(`${JSON.stringify(input)} → ${expected}`, () => assert.equal(normalizeReference(input), expected));
  }

  const invalid = ['', '   ', 'Busybox', 'team/App', 'busybox:', 'busybox:-x', `busybox:${'t'.repeat(129)}`, 'busybox@sha256:abc', 'busybox@md5', 'a//b', '/busybox', 'busybox/'];
  for (const input of invalid) {
    test(`${JSON.stringify(input)} is not a reference`, () => assert.equal(parseReference(input), undefined));
  }

  test('keeps the parts apart', () => {
    assert.deepEqual(parseReference(`127.0.0.1:5000/base/app:1@${DIGEST}`), {
      registry: '127.0.0.1:5000',
      repository: 'base/app',
      tag: '1',
      digest: DIGEST,
    });
    assert.deepEqual(parseReference(`app@${DIGEST}`), { registry: 'docker.io', repository: 'library/app', digest: DIGEST });
  });

  test('formatReference and repositoryOf', () => {
    const ref = { registry: 'mcr.microsoft.com', repository: 'dotnet/sdk', tag: '8.0' };
    assert.equal(formatReference(ref), 'mcr.microsoft.com/dotnet/sdk:8.0');
    assert.equal(repositoryOf(ref), 'mcr.microsoft.com/dotnet/sdk');
  });
});

describe('isLoopbackRegistry', () => {
  for (const host of ['localhost', 'localhost:5000', '127.0.0.1', '127.0.0.1:5000', '127.10.20.30:443', '[::1]', '[::1]:5000']) {
    test(`${host} is loopback`, () => assert.equal(isLoopbackRegistry(host), true));
  }
  for (const host of ['docker.io', 'mcr.microsoft.com', '128.0.0.1:5000', '10.0.0.1', 'localhost.example.com', '127.example.com', '[::2]:5000']) {
    test(`${host} is not loopback`, () => assert.equal(isLoopbackRegistry(host), false));
  }
});
