/**
 * Secrets (issue 13, item 1), on the real engine and registry: a `--build-arg` value and a `--secret`
 * value are planted, then every channel imagewright writes is searched for both: stdout and stderr
 * of plan, build and a failing build, every file the runs leave in the repository (logs under
 * .imagewright/, image-info), the labels of the pushed image; and the pushed image's whole config,
 * history included, for the secret. Docker records the build arg in the history itself, which is
 * why docs/usage.md sends secrets to --secret; the test shows that too.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fixture } from '../helpers/adversarial.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { ensureBaseImages, loadEngineEnv, uniqueRepoPrefix } from '../helpers/engine.js';

const BUILD_ARG_VALUE = `ba-${randomBytes(12).toString('hex')}`;
const SECRET_VALUE = `sv-${randomBytes(12).toString('hex')}`;

const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';

/** Every file under `dir` but the planted secret file itself, as (path, text). */
function filesUnder(dir: string, skip: string): Array<[string, string]> {
  const found: Array<[string, string]> = [];
  const visit = (d: string): void => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (path === skip) continue;
      if (statSync(path).isDirectory()) visit(path);
      else found.push([path, readFileSync(path, 'latin1')]);
    }
  };
  visit(dir);
  return found;
}

async function registryJson(path: string, accept?: string): Promise<Record<string, unknown>> {
  const response = await fetch(`http://${loadEngineEnv().registry}/v2/${path}`, { headers: accept ? { accept } : {} });
  assert.equal(response.status, 200, `GET ${path}`);
  return (await response.json()) as Record<string, unknown>;
}

describe('secrets never leak', { timeout: 10 * 60_000 }, () => {
  let dir: string;
  let prefix: string;
  const outputs: Array<[string, CliResult]> = [];

  before(async () => {
    await ensureBaseImages();
    prefix = `${uniqueRepoPrefix('secrets')}/`;
    const registry = loadEngineEnv().registry;
    dir = await fixture({
      'manifest.json': {
        registry,
        repos: [{ name: 'app', images: [{ platforms: [{ dockerfile: 'app', os: 'linux', osVersion: 'busybox', tags: { '1': {} } }] }] }],
      },
      'app/Dockerfile': [
        `FROM ${registry}/base/busybox:stable`,
        'ARG TOKEN',
        // Proves the build got the value, without printing it.
        'RUN test -n "$TOKEN" && echo "token has ${#TOKEN} characters"',
        'RUN --mount=type=secret,id=apikey test -s /run/secrets/apikey && echo "secret has $(wc -c < /run/secrets/apikey) bytes"',
        '',
      ].join('\n'),
      'secret.txt': SECRET_VALUE,
    });
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function cli(label: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
    const engine = loadEngineEnv();
    const run = runCli([...args, '--repo-prefix', prefix], {
      cwd: dir,
      env: { DOCKER_HOST: engine.dockerHost, IMAGEWRIGHT_DOCKER: engine.docker, DOCKER_BUILDKIT: '1', ...env },
    });
    return run.then((result) => {
      outputs.push([label, result]);
      return result;
    });
  }

  it('plan, build and a failed build show neither value, anywhere', async () => {
    const plan = await cli('plan', ['plan', '--format', 'json', '--image-info', 'image-info.json', '--build-arg', `TOKEN=${BUILD_ARG_VALUE}`]);
    assert.equal(plan.code, 0, plan.stderr);
    // From the environment this time: the same value, so the same key.
    const build = await cli(
      'build',
      ['build', '--push', '--image-info', 'image-info.json', '--build-arg', 'TOKEN', '--secret', 'id=apikey,src=secret.txt'],
      { TOKEN: BUILD_ARG_VALUE },
    );
    assert.equal(build.code, 0, build.stderr);
    const logs = filesUnder(join(dir, '.imagewright'), '').map(([, text]) => text).join('\n');
    assert.match(logs, /token has \d+ characters/, 'the build got the build arg');
    assert.match(logs, /secret has \d+ bytes/, 'the build got the secret');
    // By the environment: docker reads `--build-arg TOKEN` there, and no argv (readable in /proc) holds it.
    assert.match(logs, /--build-arg TOKEN (?!=)/);

    const rotated = await cli('plan after rotation', ['plan', '--format', 'json', '--image-info', 'image-info.json', '--build-arg', `TOKEN=${BUILD_ARG_VALUE}x`]);
    assert.equal(rotated.code, 0, rotated.stderr);
    const reasons = (JSON.parse(rotated.stdout) as { platforms: Array<{ reasons: Array<{ detail: string }> }> }).platforms[0]?.reasons;
    assert.deepEqual(reasons?.map((r) => r.detail), ['build arg TOKEN changed']);
    const unchanged = await cli('plan with the same value', ['plan', '--format', 'json', '--image-info', 'image-info.json', '--build-arg', `TOKEN=${BUILD_ARG_VALUE}`]);
    assert.match(unchanged.stdout, /"decision": "reuse"/, 'a secret is no part of the key: the same build arg reuses');

    await writeFile(join(dir, 'app/Dockerfile'), `${readFileSync(join(dir, 'app/Dockerfile'), 'utf8')}RUN --mount=type=secret,id=apikey cat /run/secrets/apikey && echo && echo "$TOKEN" | wc -c && exit 7\n`);
    const failing = await cli('failing build', ['build', '--push', '--image-info', 'image-info.json', '--build-arg', `TOKEN=${BUILD_ARG_VALUE}`, '--secret', 'id=apikey,env=API_KEY'], {
      API_KEY: SECRET_VALUE,
    });
    assert.equal(failing.code, 1, failing.stderr);
    // The build printed both (BuildKit shows the RUN with $TOKEN expanded; cat shows the secret): masked.
    assert.match(failing.stderr, /RUN --mount=type=secret,id=apikey cat \/run\/secrets\/apikey && echo && echo "\*\*\*"/);
    assert.match(filesUnder(join(dir, '.imagewright'), '').map(([, text]) => text).join('\n'), /^#\d+ [\d.]+ \*\*\*$/m);
    const badOption = await cli('refused option', ['plan', '--build-arg', `TO KEN=${BUILD_ARG_VALUE}`]);
    assert.equal(badOption.code, 2);

    for (const [label, result] of outputs) {
      for (const [channel, text] of [
        ['stdout', result.stdout],
        ['stderr', result.stderr],
      ] as const) {
        assert.ok(!text.includes(BUILD_ARG_VALUE), `${label} ${channel} shows the build arg value`);
        assert.ok(!text.includes(SECRET_VALUE), `${label} ${channel} shows the secret`);
      }
    }
    const written = filesUnder(dir, join(dir, 'secret.txt'));
    assert.ok(written.some(([path]) => path.endsWith('image-info.json')));
    assert.ok(written.some(([path]) => path.includes('.imagewright')));
    for (const [path, text] of written) {
      assert.ok(!text.includes(BUILD_ARG_VALUE), `${path} holds the build arg value`);
      assert.ok(!text.includes(SECRET_VALUE), `${path} holds the secret`);
    }
  });

  it("the pushed image's labels hold neither value, and its config (history included) not the secret", async () => {
    const repo = `${prefix}app`;
    const manifest = await registryJson(`${repo}/manifests/1`, ACCEPT);
    const configDigest = (manifest.config as { digest: string }).digest;
    const response = await fetch(`http://${loadEngineEnv().registry}/v2/${repo}/blobs/${configDigest}`);
    const configText = await response.text();
    const config = JSON.parse(configText) as { config: { Labels: Record<string, string> }; history: Array<{ created_by?: string }> };
    const labels = JSON.stringify(config.config.Labels);
    assert.match(labels, /dev\.imagewright\.inputs/);
    assert.ok(!labels.includes(BUILD_ARG_VALUE), 'a label holds the build arg value');
    assert.ok(!configText.includes(SECRET_VALUE), 'the image config holds the secret');
    // Docker's own doing, and the reason secrets belong in --secret: a RUN's build args are in the history.
    assert.ok(
      config.history.some((h) => h.created_by?.includes(BUILD_ARG_VALUE)),
      'expected Docker to record the build arg in the history (docs/usage.md says so)',
    );
  });
});
