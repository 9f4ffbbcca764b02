/**
 * Builds with the real engine and registry from scripts/setup-engine.sh (.work/engine.env): a
 * two-stage image that reads an external image through RUN --mount, and an image built FROM it.
 * Checks that the builds read exactly what the plan resolved even when the external tag moves after
 * planning, and that image-info records the digests the registry holds.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDockerEngine, type DockerCliEngine } from '../../src/execute/engine.js';
import { executePlan } from '../../src/execute/executor.js';
import { LABEL_BUILD_KEY, LABEL_FROM_IMAGES } from '../../src/imageinfo/labels.js';
import { ImageInfoStore } from '../../src/execute/store.js';
import { readImageInfo } from '../../src/imageinfo/index.js';
import { createRegistryClient, type RegistryClient } from '../../src/registry/index.js';
import { planRepository } from '../../src/shell/plan.js';
import { ensureBaseImages, fileInImage, loadEngineEnv, uniqueRepoPrefix, updateBaseImage, type EngineEnv } from '../helpers/engine.js';

async function imageLabels(registry: RegistryClient, digestRef: string): Promise<Record<string, string>> {
  const manifest = await registry.getManifest(digestRef);
  const { config } = JSON.parse(manifest.body.toString('utf8')) as { config: { digest: string } };
  const blob = await registry.getBlob(digestRef.slice(0, digestRef.lastIndexOf('@')), config.digest);
  return (JSON.parse(blob.toString('utf8')) as { config: { Labels?: Record<string, string> } }).config.Labels ?? {};
}

describe('build against the real engine', { timeout: 10 * 60_000 }, () => {
  let env: EngineEnv;
  let prefix: string;
  let root: string;
  let engine: DockerCliEngine;
  let registry: RegistryClient;

  before(async () => {
    env = loadEngineEnv();
    prefix = uniqueRepoPrefix('build-engine');
    await ensureBaseImages(prefix);
    root = await mkdtemp(join(tmpdir(), 'iw-build-engine-'));
    registry = createRegistryClient();
    engine = await createDockerEngine({ env: { ...process.env, DOCKER_HOST: env.dockerHost, IMAGEWRIGHT_DOCKER: env.docker } });
  });

  after(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('builds with RUN --mount from a pinned image, pushes, and records the digests the registry reports', async () => {
    const reg = env.registry;
    const base = `${reg}/${prefix}/base/busybox:stable`;
    const assets = `${reg}/${prefix}/ext/assets:1`;
    const greeterRepo = `${prefix}/img/greeter`;
    const appRepo = `${prefix}/img/app`;
    const platform = (dockerfile: string, buildArgs: Record<string, string> = {}) => ({
      dockerfile,
      os: 'linux',
      osVersion: 'busybox',
      tags: { '1': {} },
      buildArgs,
    });
    await writeFile(
      join(root, 'manifest.json'),
      JSON.stringify({
        registry: reg,
        repos: [
          { name: greeterRepo, images: [{ platforms: [platform('greeter', { BASE: base })] }] },
          { name: appRepo, images: [{ platforms: [platform('app')] }] },
        ],
      }),
    );
    await mkdir(join(root, 'greeter'));
    await writeFile(
      join(root, 'greeter', 'Dockerfile'),
      [
        'ARG BASE',
        'FROM ${BASE} AS build',
        `RUN --mount=type=bind,from=${assets},target=/assets \\`,
        '    # the greeting comes from the assets image',
        '    cat /assets/greeting.txt > /greeting.txt',
        'FROM ${BASE}',
        'COPY --from=build /greeting.txt /greeting.txt',
        'COPY . /ctx/',
        '',
      ].join('\n'),
    );
    await writeFile(join(root, 'greeter', 'hello.txt'), 'hello\n');
    await writeFile(join(root, 'greeter', 'ignored.txt'), 'must not reach the image\n');
    await writeFile(join(root, 'greeter', '.dockerignore'), 'ignored.txt\n');
    await mkdir(join(root, 'app'));
    await writeFile(join(root, 'app', 'Dockerfile'), `FROM ${reg}/${greeterRepo}:1\nRUN cp /greeting.txt /app-greeting.txt\n`);

    const imageInfoFile = join(root, 'image-info.json');
    const planned = await planRepository({ manifestFile: join(root, 'manifest.json'), imageInfoFile, registry });
    assert.deepEqual(
      planned.plan.platforms.map((p) => [p.id, p.decision]),
      [
        [`${greeterRepo}:1`, 'build'],
        [`${appRepo}:1`, 'build'],
      ],
    );
    const plannedAssets = planned.plan.platforms[0]?.fromImages.find((f) => f.instruction === 'MOUNT');
    assert.ok(plannedAssets?.digest);

    // The tag moves after planning: the build must still read what the plan resolved.
    await updateBaseImage('ext/assets', 1, prefix);
    const moved = await registry.getManifest(assets);
    assert.notEqual(moved.digest, plannedAssets.digest);

    const store = await ImageInfoStore.open(imageInfoFile, planned.manifest);
    const result = await executePlan(planned, {
      engine,
      registry,
      push: true,
      noCache: false,
      keepGoing: false,
      jobs: 2,
      logDir: join(root, 'logs'),
      onPlatformDone: (plan, outcome) => store.recordPlatform(plan, outcome),
    });
    assert.deepEqual(result.failures, []);
    assert.equal(result.ok, true);

    const info = await readImageInfo(imageInfoFile);
    const record = (repo: string) => info?.repos.find((r) => r.repo === repo)?.images[0]?.platforms[0];
    const greeter = record(greeterRepo);
    const app = record(appRepo);
    for (const [repo, rec] of [
      [greeterRepo, greeter],
      [appRepo, app],
    ] as const) {
      const inRegistry = await registry.getManifest(`${reg}/${repo}:1`);
      assert.equal(rec?.digest, `${reg}/${repo}@${inRegistry.digest}`, `${repo}: image-info names the image the registry has`);
      const layers = (JSON.parse(inRegistry.body.toString('utf8')) as { layers: Array<{ digest: string; size: number }> }).layers;
      assert.deepEqual(rec?.layers, layers.map(({ digest, size }) => ({ digest, size })));
    }

    const greeterImage = greeter?.digest ?? '';
    assert.equal(await fileInImage(greeterImage, '/greeting.txt'), 'hello from assets variant 0\n', 'the planned assets digest was mounted');
    assert.equal(await fileInImage(greeterImage, '/ctx/hello.txt'), 'hello\n');
    await assert.rejects(fileInImage(greeterImage, '/ctx/ignored.txt'), /ignored\.txt/, 'the .dockerignore still applies');

    const labels = await imageLabels(registry, app?.digest ?? '');
    const appPlan = planned.plan.platforms[1];
    assert.equal(labels[LABEL_BUILD_KEY], appPlan?.buildKey);
    const fromImages = JSON.parse(labels[LABEL_FROM_IMAGES] ?? '[]') as Array<{ ref: string; digest: string; internal: boolean }>;
    assert.deepEqual(fromImages, [
      { stage: '0', instruction: 'FROM', ref: `${reg}/${greeterRepo}:1`, digest: greeterImage.split('@')[1], internal: true, buildKey: planned.plan.platforms[0]?.buildKey },
    ]);
    assert.equal(app?.baseImageDigest, greeterImage);
    assert.equal(await fileInImage(app?.digest ?? '', '/app-greeting.txt'), 'hello from assets variant 0\n');
  });

  it('without --push, records no digest and builds a dependent from the image its upstream just built locally', async () => {
    const reg = env.registry;
    const dir = join(root, 'local');
    const upstreamRepo = `${prefix}/local/upstream`;
    const token = `local-${Date.now()}-${process.pid}`;
    await mkdir(join(dir, 'up'), { recursive: true });
    await mkdir(join(dir, 'down'), { recursive: true });
    const platform = (dockerfile: string) => ({ dockerfile, os: 'linux', osVersion: 'busybox', tags: { '1': {} } });
    await writeFile(
      join(dir, 'manifest.json'),
      JSON.stringify({
        registry: reg,
        repos: [
          { name: upstreamRepo, images: [{ platforms: [platform('up')] }] },
          { name: `${prefix}/local/downstream`, images: [{ platforms: [platform('down')] }] },
        ],
      }),
    );
    await writeFile(join(dir, 'up', 'Dockerfile'), `FROM ${reg}/${prefix}/base/busybox:stable\nRUN echo ${token} > /token\n`);
    // The upstream's tag exists only in the local engine: the registry has never seen it.
    await writeFile(join(dir, 'down', 'Dockerfile'), `FROM ${reg}/${upstreamRepo}:1\nRUN cp /token /down-token\n`);
    const planned = await planRepository({ manifestFile: join(dir, 'manifest.json'), imageInfoFile: undefined, registry });
    const result = await executePlan(planned, { engine, push: false, noCache: false, keepGoing: false, jobs: 2, logDir: join(dir, 'logs') });
    assert.deepEqual(result.failures, []);
    const down = result.outcomes.get(`${prefix}/local/downstream:1`);
    assert.equal(down?.digest, '');
    assert.match(down?.imageId ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.equal(await fileInImage(down?.imageId ?? '', '/down-token'), `${token}\n`);
    await assert.rejects(registry.getManifest(`${reg}/${upstreamRepo}:1`), /not found/, 'nothing was pushed');
  });
});
