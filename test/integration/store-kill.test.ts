/**
 * A big no-change run (2,000 platforms in one repo) killed at random points: the image-info file is
 * valid every time, no platform's record is lost, and a rerun builds nothing. Runs against a
 * registry of its own; nothing builds, so no engine is needed (the docker client is made unusable,
 * so a build would fail the run).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readImageInfo } from '../../src/imageinfo/index.js';
import { createRegistryClient } from '../../src/registry/index.js';
import { cliPath, runCli } from '../helpers/cli.js';
import { pushImage } from '../helpers/registry-content.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { recordScaleRepoBuilt, writeScaleRepo, type ScaleRepo } from '../helpers/scale-repo.js';

const PLATFORMS = 2_000;
const KILLS = 10;

describe('a 2,000-platform no-change build killed at random points', { timeout: 15 * 60_000 }, () => {
  let registry: TestRegistry;
  let dir: string;
  let repo: ScaleRepo;
  let built: string;
  let digests: Map<string, string>;
  let setupMs = 0;

  before(async () => {
    registry = await startRegistry();
    dir = await mkdtemp(join(tmpdir(), 'iw-store-kill-'));
    await pushImage(registry, 'base/busybox', 'stable');
    repo = writeScaleRepo(dir, { platforms: PLATFORMS, shape: 'chains', repos: 1, registry: registry.host, prefix: 'kill', base: `${registry.host}/base/busybox:stable` });
    built = join(dir, 'built.json');
    const setupStarted = Date.now();
    await recordScaleRepoBuilt(repo, built, createRegistryClient());
    setupMs = Date.now() - setupStarted;
    digests = await recordedDigests(built);
    assert.equal(digests.size, PLATFORMS);
  });

  after(async () => {
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const imageInfo = (): string => join(dir, 'image-info.json');
  const args = (): string[] => ['build', '--push', '--manifest', repo.manifest, '--image-info', imageInfo(), '--log-dir', join(dir, 'logs')];
  const env = (): Record<string, string> => ({ IMAGEWRIGHT_DOCKER: join(dir, 'no-docker-here') });

  it('leaves a valid file with every record each time, and a rerun builds nothing', async (t) => {
    // One whole run first, to know how long a run takes (and that it succeeds).
    await copyFile(built, imageInfo());
    const started = Date.now();
    const whole = await runCli(args(), { cwd: dir, env: env() });
    const runMs = Date.now() - started;
    t.diagnostic(`pushed ${PLATFORMS} platforms in ${setupMs} ms; a whole no-change run took ${runMs} ms`);
    assert.equal(whole.code, 0, whole.stderr);
    assert.deepEqual(await recordedDigests(imageInfo()), digests);

    const cli = await cliPath();
    const killedAt: number[] = [];
    for (let i = 0; i < KILLS; i++) {
      // From the state after a build, so that every run has records to write (isUnchanged).
      await copyFile(built, imageInfo());
      const delay = Math.round(Math.random() * runMs);
      killedAt.push(delay);
      const child = spawn(process.execPath, [cli, ...args()], { cwd: dir, env: { ...process.env, ...env() }, stdio: 'ignore' });
      const closed = new Promise((resolve) => child.on('close', resolve));
      await new Promise((resolve) => setTimeout(resolve, delay));
      child.kill('SIGKILL');
      await closed;
      const after = await recordedDigests(imageInfo()).catch((error: unknown) => {
        throw new Error(`after a kill at ${delay} ms the image-info is not valid: ${String(error)}`);
      });
      assert.deepEqual(after, digests, `after a kill at ${delay} ms records were lost or changed`);
    }

    const rerun = await runCli(args(), { cwd: dir, env: env() });
    assert.equal(rerun.code, 0, `the rerun after kills at ${killedAt.join(', ')} ms failed:\n${rerun.stderr}`);
    const plan = await runCli(['plan', '--manifest', repo.manifest, '--image-info', imageInfo(), '--format', 'json'], { cwd: dir });
    const planned = JSON.parse(plan.stdout) as { platforms: Array<{ decision: string }>; registryRequests: number };
    // One existence check per recorded image, and the base image resolved once: no repeated requests.
    assert.ok(planned.registryRequests >= PLATFORMS && planned.registryRequests <= PLATFORMS + 5, `the warm plan made ${planned.registryRequests} registry requests`);
    const decisions = planned.platforms.map((p) => p.decision);
    assert.equal(decisions.length, PLATFORMS);
    assert.ok(decisions.every((d) => d === 'reuse'), 'a platform would be built after the kills');
  });
});

/** Tag → recorded digest, from a file that must parse as image-info. */
async function recordedDigests(file: string): Promise<Map<string, string>> {
  const info = await readImageInfo(file);
  if (!info) throw new Error(`${file} does not exist`);
  const digests = new Map<string, string>();
  for (const r of info.repos) for (const image of r.images) for (const p of image.platforms) digests.set(`${r.repo}:${p.simpleTags.join(',')}`, p.digest);
  return digests;
}
