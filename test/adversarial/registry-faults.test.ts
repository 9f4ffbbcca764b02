/**
 * Registry faults (issue 13, item 5), injected by a proxy in front of the real registry or by a real
 * registry set up to misbehave: each gives its exit code and one line that says what failed, within
 * its time bound, and leaves the repository as it was. docs/failure-classes.md lists the cases.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertRefused, fixture, oneImageManifest, runMeasured, snapshotTree } from '../helpers/adversarial.js';
import { startFaultProxy, type FaultProxy } from '../helpers/proxy.js';
import { pushImage } from '../helpers/registry-content.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const REGISTRY = process.env.IMAGEWRIGHT_REGISTRY ?? '127.0.0.1:5000';
const SMALL = { seconds: 20, maxRssMb: 400 };

/** A repository whose one Dockerfile reads `base`: `plan` resolves it in the registry. */
function repoReading(base: string): Promise<string> {
  return fixture({ 'manifest.json': oneImageManifest(), 'app/Dockerfile': `FROM ${base}\n` });
}

async function planRefused(base: string, expected: { code: number; file: string; location: RegExp; problem?: RegExp }, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const dir = await repoReading(base);
  try {
    const before = snapshotTree(dir);
    const run = await runMeasured(['plan'], { cwd: dir, env, killAfterSeconds: 60 });
    assertRefused(run, { ...expected, ...SMALL }, dir, before);
    return run.stderr;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('registry faults: exit 3 (2 for a bad config file), one line saying what failed, bounded, nothing written', { timeout: 10 * 60_000 }, () => {
  let proxy: FaultProxy | undefined;
  after(async () => {
    await proxy?.stop();
  });

  it('an HTTP 200 HTML login page (a proxy) is an error, never a digest', async () => {
    proxy = await startFaultProxy(REGISTRY);
    proxy.serveLoginPage();
    const ref = `${proxy.host}/base/busybox:stable`;
    await planRefused(ref, { code: 3, file: ref, location: /(?:)/, problem: /HTTP 200 with text\/html, not a manifest/ });
    assert.ok(proxy.requestCount >= 1, 'the request went through the proxy');
    await proxy.stop();
    proxy = undefined;
  });

  it('a registry on a port fetch refuses ("bad port" 6000, 5060...) works', async () => {
    proxy = await startOnBadPort(REGISTRY);
    const dir = await repoReading(`${proxy.host}/base/busybox:stable`);
    try {
      const run = await runMeasured(['plan'], { cwd: dir, killAfterSeconds: 60 });
      assert.equal(run.code, 0, run.stderr);
      assert.ok(run.seconds <= SMALL.seconds, `took ${run.seconds} s`);
      assert.match(run.stdout, /build/);
      assert.ok(proxy.requests.some((r) => r.includes('/v2/base/busybox/manifests/stable')), proxy.requests.join('\n'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await proxy.stop();
      proxy = undefined;
    }
  });

  describe('a TLS registry with a self-signed certificate', () => {
    let tlsRegistry: TestRegistry;
    before(async () => {
      tlsRegistry = await startRegistry({ tls: true });
      await pushImage(tlsRegistry, 'base/tls', 'stable');
    });
    after(async () => {
      await tlsRegistry?.stop();
    });

    it('says the certificate is not trusted and how to trust a private CA, not "HTTP 400"', async () => {
      const ref = `${tlsRegistry.host}/base/tls:stable`;
      const stderr = await planRefused(ref, {
        code: 3,
        file: `HEAD https://${tlsRegistry.host}/v2/base/tls/manifests/stable`,
        location: /TLS: /,
        problem: /not signed by a trusted CA \(DEPTH_ZERO_SELF_SIGNED_CERT\); for a private CA, set NODE_EXTRA_CA_CERTS/,
      });
      assert.doesNotMatch(stderr, /HTTP 400/);
    });

    it('works once NODE_EXTRA_CA_CERTS names the CA', async () => {
      const dir = await repoReading(`${tlsRegistry.host}/base/tls:stable`);
      try {
        const run = await runMeasured(['plan'], { cwd: dir, env: { NODE_EXTRA_CA_CERTS: tlsRegistry.caFile }, killAfterSeconds: 60 });
        assert.equal(run.code, 0, run.stderr);
        assert.ok(run.seconds <= SMALL.seconds, `took ${run.seconds} s`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  it('a malformed Docker config.json: exit 2 naming file, line and column, quoting no part of the credential', async () => {
    const secured = await startRegistry({ auth: 'basic' });
    const configDir = join(secured.dir, 'docker-config');
    try {
      await mkdir(configDir);
      const auth = Buffer.from(`${secured.username}:${secured.password}`).toString('base64');
      // A missing comma right after the credential: the parser stops next to it.
      writeFileSync(join(configDir, 'config.json'), `{"auths": {"${secured.host}": {"auth": "${auth}" "email": "x@example.com"}}}\n`);
      const configFile = join(configDir, 'config.json');
      const stderr = await planRefused(
        `${secured.host}/base/busybox:stable`,
        { code: 2, file: configFile, location: /line 1, column \d+: /, problem: /invalid JSON: expected ','/ },
        { DOCKER_CONFIG: configDir },
      );
      for (const secret of [auth, secured.password]) {
        for (let i = 0; i + 6 <= secret.length; i++) {
          const piece = secret.slice(i, i + 6);
          assert.ok(!stderr.includes(piece), `the message quotes part of the credential: ${JSON.stringify(piece)}`);
        }
      }
    } finally {
      await secured.stop();
    }
  });
});

/** The fetch standard's "bad ports" a registry might use; the first free one is taken. */
const BAD_PORTS = [6000, 5060, 5061, 6665, 6666, 6667, 6668, 6669, 4190];

async function startOnBadPort(target: string): Promise<FaultProxy> {
  for (const port of BAD_PORTS) {
    try {
      return await startFaultProxy(target, port);
    } catch {
      // Taken: try the next.
    }
  }
  throw new Error(`none of the ports ${BAD_PORTS.join(', ')} is free`);
}

describe('push failures exit 3 like every registry error, and record nothing', { timeout: 10 * 60_000 }, () => {
  let proxy: FaultProxy;
  let published: string;
  before(async () => {
    proxy = await startFaultProxy(REGISTRY);
    // One image pushed whole, index included, while the registry still accepts pushes.
    published = await pushingRepo();
    const run = await runMeasured(['build', '--push', '-i', 'image-info.json'], { cwd: published, env: engineEnv(), killAfterSeconds: 240 });
    assert.equal(run.code, 0, run.stderr.slice(-3000));
  });
  after(async () => {
    await proxy?.stop();
    if (published) rmSync(published, { recursive: true, force: true });
  });

  /** A one-image repository (shared tag `latest`) whose images go to the proxy's registry; its base comes from the registry directly. */
  function pushingRepo(): Promise<string> {
    const manifest = oneImageManifest({ manifest: { registry: proxy.host } }) as { repos: Array<{ name: string; images: Array<{ sharedTags?: object }> }> };
    const repo = manifest.repos[0];
    if (repo) {
      repo.name = `iwtest/push-fault-${process.pid}-${Date.now().toString(36)}`;
      if (repo.images[0]) repo.images[0].sharedTags = { latest: {} };
    }
    return fixture({ 'manifest.json': manifest, 'app/Dockerfile': `FROM ${REGISTRY}/base/busybox:stable\nRUN echo built > /built\n` });
  }

  // Refusals stop the engine at once; a 5xx it retries (five attempts, with back-off) for about a minute.
  const engineWords: Record<number, RegExp> = { 401: /(?:unauthorized|denied)/, 403: /(?:unauthorized|denied)/, 503: /.*503 Service Unavailable/ };
  for (const status of [401, 403, 503]) {
    it(`docker push by the engine answered HTTP ${status}: exit 3, the engine's words, no record`, async () => {
      proxy.failMethods(['POST', 'PUT', 'PATCH'], status);
      const dir = await pushingRepo();
      try {
        const run = await runMeasured(['build', '--push', '-i', 'image-info.json', '--progress', 'plain'], { cwd: dir, env: engineEnv(), killAfterSeconds: 240 });
        assert.equal(run.code, 3, run.stderr.slice(-3000));
        assert.ok(run.seconds <= 120, `took ${run.seconds} s`);
        assert.match(run.stderr, new RegExp(`FAILED +iwtest/push-fault-\\S+:1: docker push \\S+ failed \\(exit status 1\\): ${engineWords[status]?.source ?? ''}`), run.stderr.slice(-3000));
        const info = JSON.parse(readFileSync(join(dir, 'image-info.json'), 'utf8')) as { repos: unknown[] };
        assert.deepEqual(info.repos, [], 'image-info records an image that was not pushed');
      } finally {
        proxy.failMethods([], 0);
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  /** publish-manifest of the index image-info no longer records, so that it must be PUT again. */
  async function publishAgain(): Promise<void> {
    const file = join(published, 'image-info.json');
    const info = JSON.parse(readFileSync(file, 'utf8')) as { repos: Array<{ images: Array<{ manifest?: unknown }> }> };
    const image = info.repos[0]?.images[0];
    assert.ok(image?.manifest, 'the build recorded the index');
    delete image.manifest;
    writeFileSync(file, `${JSON.stringify(info, null, 2)}\n`);
  }

  it('an index PUT answered 503 (after retries): exit 3 naming the tag, image-info as it was', async () => {
    await publishAgain();
    proxy.failMethods(['PUT'], 503);
    try {
      const before = snapshotTree(published);
      const run = await runMeasured(['publish-manifest', '-i', 'image-info.json'], { cwd: published, killAfterSeconds: 60 });
      assert.equal(run.code, 3, run.stderr);
      assert.ok(run.seconds <= SMALL.seconds, `took ${run.seconds} s`);
      assert.match(run.stderr, /^imagewright: error: 1 index\(es\) not published: PUT \S+:latest: HTTP 503 \(DENIED: injected by the test proxy\)\n$/);
      assert.deepEqual(snapshotTree(published), before);
    } finally {
      proxy.failMethods([], 0);
    }
  });

  it('the registry gone: exit 3 naming the request and ECONNREFUSED, image-info as it was', async () => {
    await proxy.stop();
    const before = snapshotTree(published);
    const run = await runMeasured(['publish-manifest', '-i', 'image-info.json'], { cwd: published, killAfterSeconds: 60 });
    assert.equal(run.code, 3, run.stderr);
    assert.ok(run.seconds <= SMALL.seconds, `took ${run.seconds} s`);
    assert.match(run.stderr, /^imagewright: error: 1 index\(es\) not published: GET http:\/\/\S+: ECONNREFUSED \(after 3 attempts\)\n$/);
    assert.deepEqual(snapshotTree(published), before);
  });
});

function engineEnv(): NodeJS.ProcessEnv {
  return { DOCKER_HOST: process.env.DOCKER_HOST ?? 'unix:///run/imagewright/docker.sock', DOCKER_BUILDKIT: '1', IMAGEWRIGHT_DOCKER: process.env.IMAGEWRIGHT_DOCKER ?? '/usr/bin/docker' };
}
