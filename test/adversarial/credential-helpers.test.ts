/**
 * Docker credential helpers (issue 13, item 5): a real helper script on PATH serves the credentials
 * of a loopback registry with htpasswd authentication. Named by `credHelpers` or by `credsStore` in
 * the Docker config, it must serve imagewright's registry client (plan, index publication) and the
 * engine (`docker push`, the build's pull of its base) alike; and the password appears nowhere.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertRefused, fixture, oneImageManifest, runMeasured, snapshotTree } from '../helpers/adversarial.js';
import { docker, engineProcessEnv, ensureBaseImages, loadEngineEnv } from '../helpers/engine.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const REGISTRY = process.env.IMAGEWRIGHT_REGISTRY ?? '127.0.0.1:5000';

describe('credential helpers serve imagewright and the engine for a registry with htpasswd authentication', { timeout: 10 * 60_000 }, () => {
  let registry: TestRegistry;
  let bin: string;
  let calls: string;
  const configs: Record<'credHelpers' | 'credsStore' | 'missing', string> = { credHelpers: '', credsStore: '', missing: '' };

  /** The environment of a run with the Docker config folder `configDir`: the helper on PATH, the engine's variables. */
  const envWith = (configDir: string): Record<string, string> => ({ DOCKER_CONFIG: configDir, PATH: `${bin}:${process.env.PATH ?? ''}` });

  before(async () => {
    loadEngineEnv();
    await ensureBaseImages();
    registry = await startRegistry({ auth: 'basic' });
    bin = join(registry.dir, 'bin');
    calls = join(registry.dir, 'helper-calls');
    mkdirSync(bin);
    // The protocol: `get`, the server URL on stdin, {ServerURL, Username, Secret} on stdout, or
    // "credentials not found" and exit 1 for a server it has nothing for.
    const helper = join(bin, 'docker-credential-iwtest');
    writeFileSync(
      helper,
      `#!/bin/sh
[ "$1" = get ] || exit 2
read -r server
echo "$server" >> '${calls}'
if [ "$server" = '${registry.host}' ]; then
  printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}\\n' "$server" '${registry.username}' '${registry.password}'
  exit 0
fi
echo "credentials not found in native keychain"
exit 1
`,
    );
    chmodSync(helper, 0o755);
    for (const [name, content] of Object.entries({
      credHelpers: { credHelpers: { [registry.host]: 'iwtest' } },
      credsStore: { auths: { [registry.host]: {} }, credsStore: 'iwtest' },
      missing: { credHelpers: { [registry.host]: 'iwmissing' } },
    })) {
      const dir = join(registry.dir, `config-${name}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'config.json'), JSON.stringify(content));
      configs[name as keyof typeof configs] = dir;
    }
    // The engine pushes the base image with the helper's credentials (credHelpers).
    const base = `${registry.host}/base/busybox:stable`;
    await docker(['pull', `${REGISTRY}/base/busybox:stable`]);
    await docker(['tag', `${REGISTRY}/base/busybox:stable`, base]);
    await docker(['push', base], { env: envWith(configs.credHelpers) });
  });

  after(async () => {
    await registry?.stop();
  });

  /** A repository that builds `team/app` (shared tag `latest`) into the authenticated registry, from its base there. */
  function repo(): Promise<string> {
    const manifest = oneImageManifest({ manifest: { registry: registry.host } }) as { repos: Array<{ images: Array<{ sharedTags?: object }> }> };
    const image = manifest.repos[0]?.images[0];
    if (image) image.sharedTags = { latest: {} };
    return fixture({ 'manifest.json': manifest, 'app/Dockerfile': `FROM ${registry.host}/base/busybox:stable\nRUN echo built > /built\n` });
  }

  for (const field of ['credHelpers', 'credsStore'] as const) {
    it(`${field}: build --push plans, builds, pushes and publishes with the helper's credentials; the engine pulls them back`, async () => {
      const dir = await repo();
      try {
        writeFileSync(calls, '');
        const run = await runMeasured(['build', '--push', '-i', 'image-info.json', '--progress', 'plain'], { cwd: dir, env: engineProcessEnv(envWith(configs[field])), killAfterSeconds: 240 });
        assert.equal(run.code, 0, run.stderr.slice(-3000));
        assert.ok(run.seconds <= 120, `took ${run.seconds} s`);
        // imagewright asked the helper (the engine's CLI may have too), for this registry only.
        const asked = readFileSync(calls, 'utf8').split('\n').filter(Boolean);
        assert.ok(asked.length >= 1, 'the helper was not asked');
        assert.deepEqual([...new Set(asked)], [registry.host]);
        const info = JSON.parse(readFileSync(join(dir, 'image-info.json'), 'utf8')) as { repos: Array<{ images: Array<{ manifest?: { digest: string } }> }> };
        assert.match(info.repos[0]?.images[0]?.manifest?.digest ?? '', new RegExp(`^${registry.host}/team/app@sha256:`));
        await docker(['pull', `${registry.host}/team/app:latest`], { env: envWith(configs[field]) });
        // The password is nowhere imagewright writes.
        const channels: Array<[string, string]> = [['stdout', run.stdout], ['stderr', run.stderr], ...filesUnder(dir)];
        for (const [where, text] of channels) {
          assert.ok(!text.includes(registry.password), `${where} holds the password`);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('a helper that is not on PATH: exit 3 naming the helper and the config entry, nothing written', async () => {
    const dir = await repo();
    try {
      const before = snapshotTree(dir);
      const run = await runMeasured(['plan'], { cwd: dir, env: engineProcessEnv(envWith(configs.missing)), killAfterSeconds: 60 });
      assertRefused(
        run,
        {
          code: 3,
          file: `authentication failed: ${registry.host}`,
          location: /the credential helper docker-credential-iwmissing /,
          problem: new RegExp(`\\(credHelpers\\["${registry.host.replace(/\./g, '\\.')}"\\] in ${configs.missing}/config\\.json\\) is not on PATH$`),
          seconds: 20,
          maxRssMb: 400,
        },
        dir,
        before,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Every file under `dir`, with its text. */
function filesUnder(dir: string): Array<[string, string]> {
  return [...snapshotTree(dir).entries()].filter(([, kind]) => kind.startsWith('file ')).map(([path]) => [path, readFileSync(join(dir, path), 'utf8')]);
}
