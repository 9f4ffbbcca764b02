/**
 * The registry client against the real distribution registry (Debian's docker-registry): digests,
 * platform picking, auth (htpasswd Basic, token service Bearer), errors, memoization, and retries
 * through a fault-injection proxy in front of the real registry.
 */
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RegistryAuthError, RegistryError } from '../../src/errors.js';
import { ImageNotFoundError } from '../../src/errors.js';
import { createRegistryClient, type RegistryClient, type RegistryClientOptions } from '../../src/registry/index.js';
import { startFaultProxy, type FaultProxy } from '../helpers/proxy.js';
import { MEDIA, pushImage, pushIndex, sha256, type PushedImage, type PushedIndex } from '../helpers/registry-content.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const amd64 = { os: 'linux', architecture: 'amd64' };
const arm64v8 = { os: 'linux', architecture: 'arm64', variant: 'v8' };
const armv7 = { os: 'linux', architecture: 'arm', variant: 'v7' };
const MISSING_DIGEST = `sha256:${'0'.repeat(64)}`;

/** Every message a client threw in these tests, checked for secrets at the end. */
const thrownMessages: string[] = [];
/** OAuth2 refresh tokens ("identity tokens"): one the token service takes, one it does not. */
const IDENTITY_TOKEN = 'iw-refresh-7f3c9a1e5b';
const WRONG_IDENTITY_TOKEN = 'iw-refresh-expired-0d4e';

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Error);
    thrownMessages.push(error.message);
    return error;
  }
  assert.fail('expected a rejection');
}

function writeDockerConfig(registry: TestRegistry, name: string, auths: Record<string, object>): string {
  const path = join(registry.dir, name);
  writeFileSync(path, JSON.stringify({ auths }));
  return path;
}

function basicAuth(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`).toString('base64');
}

/** A client that never reads the developer's own ~/.docker/config.json. */
function clientFor(registry: TestRegistry, options: RegistryClientOptions = {}): RegistryClient {
  return createRegistryClient({ dockerConfig: join(registry.dir, 'absent-config.json'), retryBackoffMs: 10, ...options });
}

describe('registry client, registry without auth', () => {
  let registry: TestRegistry;
  let single: PushedImage;
  let ociSingle: PushedImage;
  let index: PushedIndex;
  let list: PushedIndex;
  const ref = (path: string) => `${registry.host}/${path}`;

  before(async () => {
    registry = await startRegistry();
    single = await pushImage(registry, 'base/single', '1', { labels: { 'org.example.version': '1.2.3' } });
    ociSingle = await pushImage(registry, 'base/oci', '1', { format: 'oci' });
    // The attestation entry comes first and claims linux/amd64: only its annotation marks it.
    index = await pushIndex(registry, 'base/multi', '1', {
      platforms: [amd64, arm64v8, armv7],
      attestation: true,
      attestationPlatform: amd64,
    });
    list = await pushIndex(registry, 'base/list', '1', { format: 'docker', platforms: [amd64, arm64v8], attestation: true });
  });
  after(() => registry?.stop());

  test('resolves a Docker v2 image tag to its manifest digest with a single HEAD', async () => {
    const client = clientFor(registry);
    const resolved = await client.resolve(ref('base/single:1'), amd64);
    assert.deepEqual(resolved, { ref: ref('base/single:1'), digest: single.digest, mediaType: MEDIA.dockerManifest });
    assert.equal(client.requestCount, 1);
  });

  test('resolves an OCI image manifest', async () => {
    const resolved = await clientFor(registry).resolve(ref('base/oci:1'), amd64);
    assert.equal(resolved.digest, ociSingle.digest);
    assert.equal(resolved.mediaType, MEDIA.ociManifest);
    assert.equal(resolved.indexDigest, undefined);
  });

  test('picks the platform entry of an OCI index, skips the attestation, and records both digests', async () => {
    const client = clientFor(registry);
    const onAmd64 = await client.resolve(ref('base/multi:1'), amd64);
    assert.deepEqual(onAmd64, {
      ref: ref('base/multi:1'),
      digest: index.images[0]?.digest,
      indexDigest: index.digest,
      mediaType: MEDIA.ociManifest,
    });
    assert.notEqual(onAmd64.digest, index.attestationDigest);
    // arm64 without a variant is arm64/v8; aarch64 is arm64; arm without a variant is arm/v7.
    assert.equal((await client.resolve(ref('base/multi:1'), { os: 'linux', architecture: 'arm64' })).digest, index.images[1]?.digest);
    assert.equal((await client.resolve(ref('base/multi:1'), { os: 'linux', architecture: 'aarch64' })).digest, index.images[1]?.digest);
    assert.equal((await client.resolve(ref('base/multi:1'), { os: 'linux', architecture: 'arm' })).digest, index.images[2]?.digest);
    // One HEAD and one GET of the index serve every platform.
    assert.equal(client.requestCount, 2);
  });

  test('picks the platform entry of a Docker manifest list', async () => {
    const resolved = await clientFor(registry).resolve(ref('base/list:1'), arm64v8);
    assert.deepEqual(resolved, {
      ref: ref('base/list:1'),
      digest: list.images[1]?.digest,
      indexDigest: list.digest,
      mediaType: MEDIA.dockerManifest,
    });
  });

  test('never picks an unknown/unknown attestation entry', async () => {
    const error = await rejection(clientFor(registry).resolve(ref('base/list:1'), { os: 'unknown', architecture: 'unknown' }));
    assert.match(error.message, /no image for platform unknown\/unknown/);
  });

  test('resolves a reference pinned by index digest to the platform entry', async () => {
    const pinned = ref(`base/multi@${index.digest}`);
    const resolved = await clientFor(registry).resolve(pinned, armv7);
    assert.deepEqual(resolved, { ref: pinned, digest: index.images[2]?.digest, indexDigest: index.digest, mediaType: MEDIA.ociManifest });
  });

  test('resolves a reference pinned by image digest to that digest', async () => {
    const resolved = await clientFor(registry).resolve(ref(`base/single@${single.digest}`), amd64);
    assert.equal(resolved.digest, single.digest);
  });

  test('a platform the index lacks is an error naming the reference and the platform', async () => {
    const error = await rejection(clientFor(registry).resolve(ref('base/multi:1'), { os: 'linux', architecture: 's390x' }));
    assert.ok(error instanceof RegistryError);
    assert.ok(!(error instanceof ImageNotFoundError));
    assert.ok(error.message.includes(ref('base/multi:1')), error.message);
    assert.match(error.message, /linux\/s390x/);
    assert.match(error.message, /linux\/amd64, linux\/arm64\/v8, linux\/arm\/v7/);
  });

  test('a missing tag is ImageNotFoundError naming the reference', async () => {
    const error = await rejection(clientFor(registry).resolve(ref('base/single:nope'), amd64));
    assert.ok(error instanceof ImageNotFoundError);
    assert.ok(error instanceof RegistryError);
    assert.equal(error.reference, ref('base/single:nope'));
    assert.ok(error.message.includes(ref('base/single:nope')), error.message);
  });

  test('a missing repository is ImageNotFoundError too', async () => {
    const error = await rejection(clientFor(registry).resolve(ref('nobody/here:1'), amd64));
    assert.ok(error instanceof ImageNotFoundError);
  });

  test('resolving the same reference and platform again sends no request; concurrent callers share one', async () => {
    const client = clientFor(registry);
    const [first, second] = await Promise.all([client.resolve(ref('base/single:1'), amd64), client.resolve(ref('base/single:1'), amd64)]);
    assert.equal(client.requestCount, 1);
    assert.deepEqual(first, second);
    // Another spelling of the same reference is the same reference.
    await client.resolve(`${registry.host}/base/single:1`, { os: 'Linux', architecture: 'x86_64' });
    assert.equal(client.requestCount, 1);
  });

  test('exists() answers true for a present digest and false for an absent one', async () => {
    const client = clientFor(registry);
    assert.equal(await client.exists(ref(`base/single@${single.digest}`)), true);
    assert.equal(await client.exists(ref(`base/single@${MISSING_DIGEST}`)), false);
    assert.equal(await client.exists(ref('base/single:nope')), false);
  });

  test('getManifest returns the body, media type and digest; getBlob reads the image config', async () => {
    const client = clientFor(registry);
    const manifest = await client.getManifest(ref('base/single:1'));
    assert.deepEqual(manifest, { body: single.manifest, mediaType: MEDIA.dockerManifest, digest: single.digest });
    const config = JSON.parse((await client.getBlob(ref('base/single'), single.configDigest)).toString('utf8')) as {
      config: { Labels: Record<string, string> };
    };
    assert.equal(config.config.Labels['org.example.version'], '1.2.3');
    const missing = await rejection(client.getBlob(ref('base/single'), MISSING_DIGEST));
    assert.ok(missing instanceof RegistryError);
    assert.equal(missing.status, 404);
  });

  test('putManifest tags a manifest and returns the registry digest; blobExists and mountBlob', async () => {
    const client = clientFor(registry);
    assert.equal(await client.blobExists(ref('published/app'), single.configDigest), false);
    assert.equal(await client.mountBlob(ref('base/single'), ref('published/app'), single.configDigest), true);
    assert.equal(await client.mountBlob(ref('base/single'), ref('published/app'), single.layerDigest), true);
    assert.equal(await client.blobExists(ref('published/app'), single.configDigest), true);
    assert.equal(await client.mountBlob(ref('base/single'), ref('published/app'), MISSING_DIGEST), false);
    const digest = await client.putManifest(ref('published/app:2'), single.manifest, MEDIA.dockerManifest);
    assert.equal(digest, single.digest);
    assert.equal((await clientFor(registry).resolve(ref('published/app:2'), amd64)).digest, single.digest);
  });

  test('a non-loopback name uses HTTPS unless listed in insecureRegistries', async (t) => {
    // Needs a host name other than localhost that resolves to 127.0.0.1 (the machine's own name, usually).
    const name = hostname().toLowerCase();
    const address = await lookup(name, { family: 4 }).catch(() => undefined);
    if (!/^[a-z0-9-]+$/.test(name) || name === 'localhost' || address?.address !== '127.0.0.1') {
      t.skip(`host name ${name} does not resolve to 127.0.0.1`);
      return;
    }
    const port = registry.host.split(':')[1];
    const byName = `${name}:${port}/base/single:1`;
    const overTls = await rejection(clientFor(registry).resolve(byName, amd64));
    assert.ok(overTls instanceof RegistryError);
    assert.match(overTls.message, /https:\/\//);
    const insecure = clientFor(registry, { insecureRegistries: [`${name}:${port}`] });
    assert.equal((await insecure.resolve(byName, amd64)).digest, single.digest);
  });

  test('putBlob uploads a blob under its digest', async () => {
    const client = clientFor(registry);
    const data = Buffer.from('a blob uploaded by the client');
    assert.equal(await client.putBlob(ref('published/blobs'), data), sha256(data));
    assert.deepEqual(await client.getBlob(ref('published/blobs'), sha256(data)), data);
  });
});

describe('registry client through a fault-injection proxy', () => {
  let registry: TestRegistry;
  let proxy: FaultProxy;
  let single: PushedImage;
  let index: PushedIndex;
  const viaProxy = (path: string) => `${proxy.host}/${path}`;

  before(async () => {
    registry = await startRegistry();
    proxy = await startFaultProxy(registry.host);
    single = await pushImage(registry, 'base/single', '1');
    index = await pushIndex(registry, 'base/multi', '1', { platforms: [amd64, arm64v8] });
  });
  after(async () => {
    await proxy?.stop();
    await registry?.stop();
  });

  test('without Docker-Content-Digest, the digest is the sha256 of the GET body', async () => {
    const stripping = await startFaultProxy(registry.host);
    try {
      stripping.stripResponseHeader('Docker-Content-Digest');
      const client = clientFor(registry);
      const resolved = await client.resolve(`${stripping.host}/base/single:1`, amd64);
      assert.equal(resolved.digest, single.digest);
      assert.equal(resolved.mediaType, MEDIA.dockerManifest);
      assert.deepEqual(stripping.requests, ['HEAD /v2/base/single/manifests/1', 'GET /v2/base/single/manifests/1']);
      const fromIndex = await client.resolve(`${stripping.host}/base/multi:1`, arm64v8);
      assert.equal(fromIndex.digest, index.images[1]?.digest);
      assert.equal(fromIndex.indexDigest, index.digest);
    } finally {
      await stripping.stop();
    }
  });

  test('retries 503 answers and succeeds', async () => {
    const before = proxy.requestCount;
    proxy.failNext(2);
    const resolved = await clientFor(registry).resolve(viaProxy('base/single:1'), amd64);
    assert.equal(resolved.digest, single.digest);
    assert.equal(proxy.requestCount - before, 3);
  });

  test('retries a 429 answer', async () => {
    const before = proxy.requestCount;
    proxy.failNext(1, 429);
    assert.equal((await clientFor(registry).resolve(viaProxy('base/single:1'), amd64)).digest, single.digest);
    assert.equal(proxy.requestCount - before, 2);
  });

  test('gives up after three attempts with a RegistryError carrying the status', async () => {
    const before = proxy.requestCount;
    proxy.failNext(10);
    const error = await rejection(clientFor(registry).resolve(viaProxy('base/single:1'), amd64));
    proxy.failNext(0);
    assert.ok(error instanceof RegistryError);
    assert.ok(!(error instanceof ImageNotFoundError));
    assert.equal(error.status, 503);
    assert.equal(proxy.requestCount - before, 3);
  });

  test('retries a reset connection', async () => {
    const before = proxy.requestCount;
    proxy.resetNext(2);
    const client = clientFor(registry);
    assert.equal((await client.resolve(viaProxy('base/multi:1'), amd64)).digest, index.images[0]?.digest);
    assert.equal(proxy.requestCount - before, 4);
  });

  test('reports an unreachable registry after the retries', async () => {
    const before = proxy.requestCount;
    proxy.resetNext(3);
    const error = await rejection(clientFor(registry).exists(viaProxy(`base/single@${single.digest}`)));
    assert.ok(error instanceof RegistryError);
    assert.match(error.message, /after 3 attempts/);
    assert.equal(proxy.requestCount - before, 3);
  });

  test('retries a request that times out', async () => {
    proxy.delayNext(1, 1500);
    const client = clientFor(registry, { timeoutMs: 300 });
    assert.equal((await client.resolve(viaProxy('base/single:1'), amd64)).digest, single.digest);
    assert.equal(client.requestCount, 2);
  });

  test('never retries a 404', async () => {
    const before = proxy.requestCount;
    const error = await rejection(clientFor(registry).resolve(viaProxy('base/single:absent'), amd64));
    assert.ok(error instanceof ImageNotFoundError);
    assert.equal(proxy.requestCount - before, 1);
  });

  test('never retries a POST (starting an upload)', async () => {
    const before = proxy.requestCount;
    proxy.failNext(1);
    const error = await rejection(clientFor(registry).putBlob(viaProxy('published/blobs'), Buffer.from('once')));
    assert.ok(error instanceof RegistryError);
    assert.equal(error.status, 503);
    assert.equal(proxy.requestCount - before, 1);
  });

  test('keeps at most `concurrency` requests in flight', async () => {
    const client = clientFor(registry, { concurrency: 1 });
    proxy.delayNext(1, 300);
    const started = Date.now();
    // The second request waits for the delayed first one, so both finish after the delay.
    const timings = await Promise.all([
      client.exists(viaProxy(`base/single@${single.digest}`)).then(() => Date.now() - started),
      client.exists(viaProxy(`base/multi@${index.digest}`)).then(() => Date.now() - started),
    ]);
    assert.ok(timings.every((ms) => ms >= 280), `timings ${timings.join(', ')}`);
  });
});

describe('registry client, htpasswd Basic auth', () => {
  let registry: TestRegistry;
  let single: PushedImage;
  const ref = (path: string) => `${registry.host}/${path}`;

  before(async () => {
    registry = await startRegistry({ auth: 'basic', username: 'ci-bot', password: 'basic-s3cret-pass' });
    single = await pushImage(registry, 'base/single', '1');
  });
  after(() => registry?.stop());

  test('authenticates with a base64 `auth` entry keyed by host', async () => {
    const dockerConfig = writeDockerConfig(registry, 'auth-entry.json', {
      [registry.host]: { auth: basicAuth(registry.username, registry.password) },
    });
    const client = createRegistryClient({ dockerConfig });
    assert.equal((await client.resolve(ref('base/single:1'), amd64)).digest, single.digest);
    // The 401 taught the client to send credentials up front.
    assert.equal(await client.exists(ref(`base/single@${single.digest}`)), true);
    assert.equal(client.requestCount, 3);
  });

  test('authenticates with username/password fields keyed by URL with scheme', async () => {
    const dockerConfig = writeDockerConfig(registry, 'url-key.json', {
      [`http://${registry.host}/v2/`]: { username: registry.username, password: registry.password },
    });
    assert.equal((await createRegistryClient({ dockerConfig }).resolve(ref('base/single:1'), amd64)).digest, single.digest);
  });

  test('a wrong password is RegistryAuthError, never a miss', async () => {
    const dockerConfig = writeDockerConfig(registry, 'wrong.json', { [registry.host]: { auth: basicAuth(registry.username, 'wrong-pass-123') } });
    const client = createRegistryClient({ dockerConfig });
    const resolveError = await rejection(client.resolve(ref('base/single:1'), amd64));
    assert.ok(resolveError instanceof RegistryAuthError, String(resolveError));
    assert.ok(resolveError.message.includes(registry.host));
    assert.ok(resolveError.message.includes(dockerConfig), 'names the config file the credentials came from');
    const existsError = await rejection(client.exists(ref(`base/single@${single.digest}`)));
    assert.ok(existsError instanceof RegistryAuthError);
    const missingError = await rejection(client.resolve(ref('base/single:nope'), amd64));
    assert.ok(missingError instanceof RegistryAuthError, 'a 401 on an absent tag is still an auth error');
  });

  test('no credentials for the registry is RegistryAuthError saying so', async () => {
    const dockerConfig = writeDockerConfig(registry, 'other.json', { 'other.example:5000': { auth: basicAuth('x', 'y') } });
    const error = await rejection(createRegistryClient({ dockerConfig }).resolve(ref('base/single:1'), amd64));
    assert.ok(error instanceof RegistryAuthError);
    assert.match(error.message, /no credentials for 127\.0\.0\.1:\d+/);
  });
});

describe('registry client, Bearer token auth', () => {
  let registry: TestRegistry;
  let single: PushedImage;
  let other: PushedImage;
  const ref = (path: string) => `${registry.host}/${path}`;
  const config = (name: string, password: string) =>
    writeDockerConfig(registry, name, { [registry.host]: { auth: basicAuth(registry.username, password) } });

  before(async () => {
    registry = await startRegistry({
      auth: 'token',
      username: 'token-user',
      password: 'token-s3cret-pass',
      deniedRepositories: ['private/secret'],
      refreshTokens: { [IDENTITY_TOKEN]: 'oauth-user' },
    });
    single = await pushImage(registry, 'base/single', '1');
    other = await pushImage(registry, 'base/single', '2', { layerText: 'another image' });
  });
  after(() => registry?.stop());

  test('answers the Bearer challenge through the token service and reuses the token per scope', async () => {
    const server = registry.tokenServer;
    assert.ok(server);
    const tokensBefore = server.requestCount;
    const client = createRegistryClient({ dockerConfig: config('token.json', registry.password) });
    assert.equal((await client.resolve(ref('base/single:1'), amd64)).digest, single.digest);
    assert.equal((await client.resolve(ref('base/single:2'), amd64)).digest, other.digest);
    assert.equal(server.requestCount - tokensBefore, 1, 'one token for repository:base/single:pull');
    // 401 challenge, token, retried HEAD; then the second tag with the cached token.
    assert.equal(client.requestCount, 4);
  });

  test('pushes with a pull,push token: putManifest and a cross-repository mount', async () => {
    const client = createRegistryClient({ dockerConfig: config('token-push.json', registry.password) });
    assert.equal(await client.mountBlob(ref('base/single'), ref('published/app'), single.configDigest), true);
    assert.equal(await client.mountBlob(ref('base/single'), ref('published/app'), single.layerDigest), true);
    assert.equal(await client.putManifest(ref('published/app:1'), single.manifest, MEDIA.dockerManifest), single.digest);
    assert.equal(await client.exists(ref(`published/app@${single.digest}`)), true);
  });

  test('wrong credentials at the token service are RegistryAuthError', async () => {
    const client = createRegistryClient({ dockerConfig: config('token-wrong.json', 'wrong-token-pass') });
    const error = await rejection(client.resolve(ref('base/single:1'), amd64));
    assert.ok(error instanceof RegistryAuthError, String(error));
    assert.match(error.message, /token service/);
  });

  test('no credentials at all is RegistryAuthError', async () => {
    const error = await rejection(clientFor(registry).exists(ref(`base/single@${single.digest}`)));
    assert.ok(error instanceof RegistryAuthError);
  });

  test('a 401 from the registry despite a token is RegistryAuthError naming the repository', async () => {
    const client = createRegistryClient({ dockerConfig: config('token-denied.json', registry.password) });
    const error = await rejection(client.resolve(ref('private/secret:1'), amd64));
    assert.ok(error instanceof RegistryAuthError, String(error));
    assert.match(error.message, /private\/secret denied \(HTTP 401\)/);
    // Challenge, token, one retry with it; then the refusal stands: no endless loop.
    assert.equal(client.requestCount, 3);
  });

  test('an identity token in config.json (`identitytoken`, as `docker login` to ACR stores it) is traded with the refresh-token grant', async () => {
    const server = registry.tokenServer;
    assert.ok(server);
    const tokensBefore = server.requestCount;
    const dockerConfig = writeDockerConfig(registry, 'identity.json', { [registry.host]: { auth: basicAuth('00000000-0000-0000-0000-000000000000', ''), identitytoken: IDENTITY_TOKEN } });
    const client = createRegistryClient({ dockerConfig });
    assert.equal((await client.resolve(ref('base/single:1'), amd64)).digest, single.digest);
    assert.equal((await client.resolve(ref('base/single:2'), amd64)).digest, other.digest);
    assert.equal(server.requestCount - tokensBefore, 1, 'one access token for repository:base/single:pull');
    // And pushes: the grant carries the pull,push scope.
    for (const blob of [single.configDigest, single.layerDigest]) assert.equal(await client.mountBlob(ref('base/single'), ref('published/oauth'), blob), true);
    assert.equal(await client.putManifest(ref('published/oauth:1'), single.manifest, MEDIA.dockerManifest), single.digest);
  });

  test('an identity token from a credential helper (Username <token>) is traded the same way', async () => {
    const bin = join(registry.dir, 'bin');
    mkdirSync(bin, { recursive: true });
    const helper = join(bin, 'docker-credential-iwoauth');
    writeFileSync(helper, `#!/bin/sh\ncat >/dev/null\nprintf '%s' '{"ServerURL":"${registry.host}","Username":"<token>","Secret":"${IDENTITY_TOKEN}"}'\n`);
    chmodSync(helper, 0o755);
    const dockerConfig = join(registry.dir, 'identity-helper.json');
    writeFileSync(dockerConfig, JSON.stringify({ credHelpers: { [registry.host]: 'iwoauth' } }));
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path ?? ''}`;
    try {
      assert.equal((await createRegistryClient({ dockerConfig }).resolve(ref('base/single:1'), amd64)).digest, single.digest);
    } finally {
      process.env.PATH = path;
    }
  });

  test('an identity token the token service does not take is RegistryAuthError saying so, without the token', async () => {
    const dockerConfig = writeDockerConfig(registry, 'identity-wrong.json', { [registry.host]: { identitytoken: WRONG_IDENTITY_TOKEN } });
    const error = await rejection(createRegistryClient({ dockerConfig }).resolve(ref('base/single:1'), amd64));
    assert.ok(error instanceof RegistryAuthError, String(error));
    assert.match(error.message, /refused the identity token \(HTTP 400; it may have expired: log in again\) \(using the credentials for 127\.0\.0\.1:\d+ in .*identity-wrong\.json\)$/);
  });

  test('a missing blob with a valid token is a 404, not an auth error', async () => {
    const client = createRegistryClient({ dockerConfig: config('token-ok.json', registry.password) });
    const error = await rejection(client.getBlob(ref('base/single'), MISSING_DIGEST));
    assert.ok(!(error instanceof RegistryAuthError));
    assert.equal((error as RegistryError).status, 404);
  });
});

describe('error messages', () => {
  test('never contain a password, a base64 credential or a token', () => {
    assert.ok(thrownMessages.length >= 10, `collected ${thrownMessages.length} messages`);
    const secrets = ['basic-s3cret-pass', 'wrong-pass-123', 'token-s3cret-pass', 'wrong-token-pass', IDENTITY_TOKEN, WRONG_IDENTITY_TOKEN];
    const encoded = [
      basicAuth('ci-bot', 'basic-s3cret-pass'),
      basicAuth('ci-bot', 'wrong-pass-123'),
      basicAuth('token-user', 'token-s3cret-pass'),
      basicAuth('token-user', 'wrong-token-pass'),
    ];
    for (const message of thrownMessages) {
      for (const secret of [...secrets, ...encoded]) assert.ok(!message.includes(secret), `message leaks a secret: ${message}`);
      assert.doesNotMatch(message, /eyJ[\w-]+\.[\w-]+\./, `message leaks a token: ${message}`);
    }
  });
});
