import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { InputError } from '../../src/errors.js';
import { parseAuthenticate } from '../../src/registry/challenge.js';
import { configKeyHost, credentialsFor, credentialSource, defaultDockerConfigPath, loadDockerConfig, parseDockerConfig } from '../../src/registry/credentials.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('parseAuthenticate', () => {
  test('reads distribution\'s Bearer challenge, commas inside quoted scope included', () => {
    const header = 'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:team/app:pull,push",error="insufficient_scope"';
    assert.deepEqual(parseAuthenticate(header), [
      {
        scheme: 'bearer',
        params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:team/app:pull,push', error: 'insufficient_scope' },
      },
    ]);
  });

  test('reads several challenges, unquoted values, escapes and any scheme case', () => {
    const header = 'Basic realm="Registry \\"Realm\\"", BEARER realm=https://a/token , service = svc';
    assert.deepEqual(parseAuthenticate(header), [
      { scheme: 'basic', params: { realm: 'Registry "Realm"' } },
      { scheme: 'bearer', params: { realm: 'https://a/token', service: 'svc' } },
    ]);
  });

  test('an empty header has no challenges', () => {
    assert.deepEqual(parseAuthenticate(''), []);
  });
});

describe('Docker config credentials', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iw-auth-unit-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the default config file follows DOCKER_CONFIG, else ~/.docker', () => {
    const saved = process.env.DOCKER_CONFIG;
    try {
      process.env.DOCKER_CONFIG = '/etc/ci-docker';
      assert.equal(defaultDockerConfigPath(), '/etc/ci-docker/config.json');
      delete process.env.DOCKER_CONFIG;
      assert.match(defaultDockerConfigPath(), /\/\.docker\/config\.json$/);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_CONFIG;
      else process.env.DOCKER_CONFIG = saved;
    }
  });

  test('registry keys match with or without scheme and path', () => {
    assert.equal(configKeyHost('https://index.docker.io/v1/'), 'index.docker.io');
    assert.equal(configKeyHost('http://127.0.0.1:5000'), '127.0.0.1:5000');
    assert.equal(configKeyHost('Registry.Example:443/v2/'), 'registry.example:443');
  });

  test('decodes base64 `auth` and username/password entries', () => {
    const config = parseDockerConfig('cfg.json', {
      auths: {
        'https://registry.example/v1/': { auth: b64('alice:pa:ss') },
        'other.example:5000': { username: 'bob', password: 'pw' },
        'empty.example': {},
      },
    });
    assert.deepEqual(credentialsFor(config, 'registry.example'), { username: 'alice', password: 'pa:ss' });
    assert.deepEqual(credentialsFor(config, 'other.example:5000'), { username: 'bob', password: 'pw' });
    assert.equal(credentialsFor(config, 'other.example'), undefined, 'the port is part of the registry');
    assert.equal(credentialsFor(config, 'empty.example'), undefined);
  });

  test('an exact host key wins over a URL key for the same host, whatever the order', () => {
    const config = parseDockerConfig('cfg.json', {
      auths: { 'registry.example': { auth: b64('exact:1') }, 'https://registry.example': { auth: b64('url:2') } },
    });
    assert.equal(credentialsFor(config, 'registry.example')?.username, 'exact');
  });

  test('docker.io finds credentials stored under https://index.docker.io/v1/', () => {
    const config = parseDockerConfig('cfg.json', { auths: { 'https://index.docker.io/v1/': { auth: b64('hub:pw') } } });
    assert.equal(credentialsFor(config, 'docker.io')?.username, 'hub');
  });

  test("a registry's own credHelpers entry wins over credsStore, which wins over auths, as in the Docker CLI", () => {
    const config = parseDockerConfig('cfg.json', {
      auths: { 'plain.example': { auth: b64('file:pw') }, 'own.example': { auth: b64('file:pw') } },
      credsStore: 'desktop',
      credHelpers: { 'https://own.example': 'ecr-login', 'docker.io': 'hub' },
    });
    assert.deepEqual(credentialSource(config, 'own.example'), { kind: 'helper', helper: 'ecr-login', field: 'credHelpers["own.example"]', serverUrl: 'own.example' });
    assert.deepEqual(credentialSource(config, 'plain.example'), { kind: 'helper', helper: 'desktop', field: 'credsStore', serverUrl: 'plain.example' });
    assert.equal((credentialSource(config, 'registry-1.docker.io') as { serverUrl: string }).serverUrl, 'https://index.docker.io/v1/');
    const fileOnly = parseDockerConfig('cfg.json', { auths: { 'plain.example': { auth: b64('file:pw') } }, credsStore: '' });
    assert.deepEqual(credentialSource(fileOnly, 'plain.example'), { kind: 'file', credentials: { username: 'file', password: 'pw' } });
  });

  test('a helper name that is not a plain file name is an InputError naming the entry', () => {
    assert.throws(() => parseDockerConfig('cfg.json', { credHelpers: { 'r.example': '../../bin/sh' } }), { name: 'InputError', message: 'cfg.json: credHelpers["r.example"]: expected a credential helper name (the <name> of docker-credential-<name>)' });
    assert.throws(() => parseDockerConfig('cfg.json', { credsStore: 7 }), { name: 'InputError', message: /^cfg\.json: credsStore: / });
  });

  test('a malformed auth value is an InputError naming file and entry, without the value', () => {
    const secret = b64('no-colon-secret');
    assert.throws(
      () => parseDockerConfig('/home/u/.docker/config.json', { auths: { 'registry.example': { auth: secret } } }),
      (error: unknown) =>
        error instanceof InputError &&
        error.message.startsWith('/home/u/.docker/config.json: auths["registry.example"].auth:') &&
        !error.message.includes(secret) &&
        !error.message.includes('no-colon-secret'),
    );
  });

  test('a missing file is an empty config; invalid JSON is an InputError naming the file', () => {
    assert.equal(loadDockerConfig(join(dir, 'absent.json')).auths.size, 0);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"auths": {');
    assert.throws(() => loadDockerConfig(broken), (error: unknown) => error instanceof InputError && error.file === broken);
    assert.throws(() => parseDockerConfig('cfg.json', []), InputError);
    assert.throws(() => parseDockerConfig('cfg.json', { auths: [] }), InputError);
  });
});
