/**
 * The executor's orchestration with a fake engine and an in-memory registry: what each build is
 * given, in what order, what is recorded, and what a failure prevents. The real engine and registry
 * are exercised in test/integration/build-engine.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { BuildRequest, Engine, LogSink } from '../../src/execute/engine.js';
import { createProgress } from '../../src/execute/progress.js';
import { executePlan, type BuildRunOptions } from '../../src/execute/executor.js';
import { LABEL_BUILD_KEY, LABEL_FROM_IMAGES } from '../../src/imageinfo/labels.js';
import { retag, type ManifestClient } from '../../src/execute/publish.js';
import { platformRecord } from '../../src/execute/record.js';
import type { PlatformOutcome } from '../../src/execute/types.js';
import { analyzeDockerfile } from '../../src/dockerfile/index.js';
import type { DockerfileAnalysis } from '../../src/dockerfile/types.js';
import type { ImageInfo, ManifestRecord, PlatformRecord } from '../../src/imageinfo/types.js';
import type { Manifest } from '../../src/manifest/types.js';
import type { PlatformPlan } from '../../src/plan/types.js';
import { MediaType } from '../../src/registry/media-types.js';
import { World, makeManifest, platformsOf } from '../helpers/plan-fixtures.js';

const sha = (data: string | Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** An in-memory registry holding manifests by `registry/repo:tag` and `registry/repo@digest`. */
class MemoryRegistry implements ManifestClient {
  readonly manifests = new Map<string, { body: Buffer; mediaType: string; digest: string }>();
  puts: string[] = [];

  store(ref: string, body: Buffer, mediaType: string): string {
    const digest = sha(body);
    const entry = { body, mediaType, digest };
    this.manifests.set(ref, entry);
    this.manifests.set(`${repoOf(ref)}@${digest}`, entry);
    return digest;
  }

  headManifest(ref: string): Promise<{ digest: string } | undefined> {
    const found = this.manifests.get(ref);
    return Promise.resolve(found ? { digest: found.digest } : undefined);
  }

  getManifest(ref: string): Promise<{ body: Buffer; mediaType: string; digest: string }> {
    const found = this.manifests.get(ref);
    return found ? Promise.resolve(found) : Promise.reject(new Error(`not found: ${ref}`));
  }

  putManifest(ref: string, body: Buffer, mediaType: string): Promise<string> {
    this.puts.push(ref);
    return Promise.resolve(this.store(ref, body, mediaType));
  }

  mountBlob(): Promise<boolean> {
    return Promise.resolve(true);
  }
}

function repoOf(ref: string): string {
  const at = ref.indexOf('@');
  const withoutDigest = at >= 0 ? ref.slice(0, at) : ref;
  const colon = withoutDigest.lastIndexOf(':');
  return colon > withoutDigest.lastIndexOf('/') ? withoutDigest.slice(0, colon) : withoutDigest;
}

/** Records each build (with the Dockerfile text it was given) and pushes into the MemoryRegistry. */
class FakeEngine implements Engine {
  readonly description = 'fake';
  readonly builds: Array<BuildRequest & { text: string; ignore?: string }> = [];
  readonly images = new Map<string, string>();
  readonly events: string[] = [];
  failing = new Set<string>();

  constructor(private readonly registry: MemoryRegistry) {}

  async build(request: BuildRequest): Promise<{ imageId: string }> {
    const text = await readFile(request.dockerfile, 'utf8');
    const ignore = await readFile(`${request.dockerfile}.dockerignore`, 'utf8').catch(() => undefined);
    this.builds.push({ ...request, text, ...(ignore !== undefined ? { ignore } : {}) });
    this.events.push(`build ${request.tags[0]}`);
    request.log.write(`#1 building ${request.tags[0]}\n`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (request.tags.some((t) => this.failing.has(t))) {
      request.log.write('#2 ERROR: process "/bin/sh -c make" did not complete successfully\n');
      throw new Error('docker build failed (exit status 1)');
    }
    const imageId = sha(`${text}|${JSON.stringify(request.labels)}|${request.platform}`);
    for (const tag of request.tags) this.images.set(tag, imageId);
    this.events.push(`built ${request.tags[0]}`);
    return { imageId };
  }

  push(ref: string, log: LogSink): Promise<{ digest?: string }> {
    const imageId = this.images.get(ref);
    if (!imageId) return Promise.reject(new Error(`no local image ${ref}`));
    const body = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.dockerManifest,
        config: { mediaType: MediaType.dockerConfig, digest: imageId, size: 10 },
        layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: sha(`layer of ${imageId}`), size: 1234 }],
      }),
    );
    const digest = this.registry.store(ref, body, MediaType.dockerManifest);
    this.events.push(`pushed ${ref}`);
    log.write(`latest: digest: ${digest} size: ${body.length}\n`);
    return Promise.resolve({ digest });
  }
}

/** Put real Dockerfiles for the fixture's platforms under `root`, point the manifest at them, and analyze them. */
async function materialize(manifest: Manifest, root: string, texts: Record<string, string>): Promise<World> {
  const analyses: Record<string, DockerfileAnalysis> = {};
  for (const platform of platformsOf(manifest)) {
    const text = texts[platform.id];
    if (text === undefined) throw new Error(`no Dockerfile text for ${platform.id}`);
    platform.dockerfilePath = join(root, platform.dockerfile);
    platform.contextDir = dirname(platform.dockerfilePath);
    await mkdir(platform.contextDir, { recursive: true });
    await writeFile(platform.dockerfilePath, text);
    analyses[platform.id] = analyzeDockerfile(text, { file: platform.dockerfile, buildArgs: platform.buildArgs, platform });
  }
  return World.of(manifest, analyses);
}

function infoFrom(manifest: Manifest, records: Map<string, PlatformRecord>, indexes = new Map<string, ManifestRecord>()): ImageInfo {
  return {
    schemaVersion: '2.0',
    repos: manifest.repos.map((repo) => ({
      repo: repo.name,
      images: repo.images.map((image, i) => {
        const platforms = image.platforms.map((p) => records.get(p.id)).filter((r): r is PlatformRecord => !!r);
        const index = indexes.get(`${repo.name}#${i}`);
        return index ? { platforms, manifest: index } : { platforms };
      }),
    })),
  };
}

describe('executePlan', () => {
  let root: string;
  let registry: MemoryRegistry;
  let engine: FakeEngine;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'iw-exec-'));
    registry = new MemoryRegistry();
    engine = new FakeEngine(registry);
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** base (FROM an external image) and app (FROM base, RUN --mount from an external image). */
  async function chain(): Promise<World> {
    const manifest = makeManifest([
      { name: 'base', images: [{ platforms: [{ dockerfile: 'base/Dockerfile', tags: ['1'] }] }] },
      { name: 'app', images: [{ platforms: [{ dockerfile: 'app/Dockerfile', tags: ['2', 'latest'] }] }] },
    ]);
    const world = await materialize(manifest, root, {
      'base:1': 'FROM ext.example/os:1\n',
      'app:2': 'FROM 127.0.0.1:5000/base:1\nRUN --mount=type=bind,from=ext.example/tools:2,target=/t /t/make\n',
    });
    await writeFile(join(root, 'app', '.dockerignore'), 'secrets/\n');
    return world;
  }

  function options(extra: Partial<BuildRunOptions> = {}): BuildRunOptions {
    return { engine, registry, push: true, noCache: false, keepGoing: false, jobs: 4, logDir: join(root, 'logs'), ...extra };
  }

  it('builds upstreams first, pins every read, pushes, and records the digest the registry holds', async () => {
    const world = await chain();
    const input = world.input(undefined);
    const plan = world.plan(undefined);
    const done: Array<[string, PlatformOutcome]> = [];
    const result = await executePlan(
      { manifest: world.manifest, graph: input.graph, plan, sources: input.platforms },
      options({ onPlatformDone: (p, o) => void done.push([p.id, o]) }),
    );
    assert.equal(result.ok, true);
    assert.deepEqual(engine.events, [
      'build 127.0.0.1:5000/base:1',
      'built 127.0.0.1:5000/base:1',
      'pushed 127.0.0.1:5000/base:1',
      'build 127.0.0.1:5000/app:2',
      'built 127.0.0.1:5000/app:2',
      'pushed 127.0.0.1:5000/app:2',
    ]);
    // The image's other tags are put on it in the registry, not pushed again.
    assert.equal(registry.manifests.get('127.0.0.1:5000/app:latest')?.digest, registry.manifests.get('127.0.0.1:5000/app:2')?.digest);
    const os = world.externalDigest('ext.example/os:1', 'linux/amd64');
    const tools = world.externalDigest('ext.example/tools:2', 'linux/amd64');
    const baseDigest = registry.manifests.get('127.0.0.1:5000/base:1')?.digest ?? '';
    const [baseBuild, appBuild] = engine.builds;
    assert.equal(baseBuild?.text, `FROM ext.example/os:1@${os}\n`);
    assert.equal(
      appBuild?.text,
      `FROM 127.0.0.1:5000/base:1@${baseDigest}\nRUN --mount=type=bind,from=ext.example/tools:2@${tools},target=/t /t/make\n`,
    );
    assert.equal(appBuild?.ignore, 'secrets/\n', "the context's .dockerignore sits beside the pinned Dockerfile");
    // Pushed, the image gets one local tag (the one pushed); app:latest is only in the registry.
    assert.deepEqual(appBuild?.tags, ['127.0.0.1:5000/app:2']);
    assert.equal(appBuild?.platform, 'linux/amd64');
    const appPlan = plan.platforms.find((p) => p.id === 'app:2') as PlatformPlan;
    assert.equal(appBuild?.labels[LABEL_BUILD_KEY], appPlan.buildKey);
    const labelled = JSON.parse(appBuild?.labels[LABEL_FROM_IMAGES] ?? '[]') as Array<{ ref: string; digest: string }>;
    assert.deepEqual(
      labelled.map((f) => [f.ref, f.digest]),
      [
        ['127.0.0.1:5000/base:1', baseDigest],
        ['ext.example/tools:2', tools],
      ],
    );
    assert.equal(appBuild?.labels['org.opencontainers.image.base.digest'], baseDigest);
    assert.equal(appBuild?.labels['org.opencontainers.image.base.name'], '127.0.0.1:5000/base:1');

    assert.deepEqual(
      done.map(([id]) => id),
      ['base:1', 'app:2'],
    );
    const app = done[1]?.[1];
    const appDigest = registry.manifests.get('127.0.0.1:5000/app:2')?.digest;
    assert.equal(app?.digest, `127.0.0.1:5000/app@${appDigest}`);
    assert.equal(app?.layers?.length, 1);
    assert.equal(app?.baseImageDigest, `127.0.0.1:5000/base@${baseDigest}`);
    const record = platformRecord(appPlan, app as PlatformOutcome);
    assert.equal(record.digest, app?.digest);
    assert.equal(record.fromImages?.[0]?.digest, baseDigest);
    assert.deepEqual(record.simpleTags, ['2', 'latest']);
  });

  it('stops at a failed build: its dependents are skipped with the reason, and the log tail is kept', async () => {
    const world = await chain();
    const input = world.input(undefined);
    engine.failing.add('127.0.0.1:5000/base:1');
    const done: string[] = [];
    let printed = '';
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        printed += chunk.toString();
        callback();
      },
    });
    const result = await executePlan(
      { manifest: world.manifest, graph: input.graph, plan: world.plan(undefined), sources: input.platforms },
      options({ onPlatformDone: (p) => void done.push(p.id), progress: createProgress({ stream, mode: 'plain', env: {} }) }),
    );
    // Plain progress: each line after its timestamp.
    const lines = printed.split('\n').map((line) => line.replace(/^\[ *\d+\.\ds\] /, ''));
    assert.equal(lines[0], 'start   base:1: build: no previous image-info');
    assert.equal(lines[1], 'FAILED  base:1: docker build failed (exit status 1)');
    assert.ok(lines.includes('    | #2 ERROR: process "/bin/sh -c make" did not complete successfully'), printed);
    const skippedAt = lines.indexOf('skipped app:2: base:1 failed');
    assert.ok(skippedAt > 1, printed);
    assert.match(lines.at(-2) ?? '', /^FAILED: 0 built, 0 reused, 0 retagged, 1 failed, 1 skipped in \d+\.\ds$/);
    assert.equal(result.ok, false);
    assert.deepEqual(done, []);
    assert.equal(result.failures[0]?.id, 'base:1');
    assert.match(result.failures[0]?.logTail ?? '', /did not complete successfully/);
    assert.ok(result.failures[0]?.logFile?.startsWith(join(root, 'logs')));
    assert.deepEqual(result.skipped, [{ id: 'app:2', reason: { kind: 'upstream-failed', failed: ['base:1'], via: ['base:1'] } }]);
    assert.equal(engine.builds.length, 1);
  });

  it('without --push, records no digest and builds dependents from the local tag', async () => {
    const world = await chain();
    const input = world.input(undefined);
    const result = await executePlan(
      { manifest: world.manifest, graph: input.graph, plan: world.plan(undefined), sources: input.platforms },
      options({ push: false, registry: undefined }),
    );
    assert.equal(result.ok, true);
    const app = result.outcomes.get('app:2');
    assert.equal(app?.digest, '');
    assert.match(app?.imageId ?? '', /^sha256:/);
    assert.match(engine.builds[1]?.text ?? '', /^FROM 127\.0\.0\.1:5000\/base:1\n/);
    // Not pushed, the local tags are the result: every one of them.
    assert.deepEqual(engine.builds[1]?.tags, ['127.0.0.1:5000/app:2', '127.0.0.1:5000/app:latest']);
    assert.ok(!engine.events.some((e) => e.startsWith('pushed')));
  });

  it('offers the previously published image as cache, unless --no-cache', async () => {
    const world = await chain();
    const records = new Map<string, PlatformRecord>();
    const input = world.input(undefined);
    await executePlan(
      { manifest: world.manifest, graph: input.graph, plan: world.plan(undefined), sources: input.platforms },
      options({ onPlatformDone: (p, o) => void records.set(p.id, platformRecord(p, o)) }),
    );
    const previous = infoFrom(world.manifest, records);
    const appDigest = records.get('app:2')?.digest;
    assert.ok(appDigest);

    world.changeDockerfile('app:2');
    const changed = world.input(previous);
    await executePlan({ manifest: world.manifest, graph: changed.graph, plan: world.plan(previous), sources: changed.platforms }, options());
    const rebuilt = engine.builds.at(-1);
    assert.deepEqual(rebuilt?.cacheFrom, [appDigest]);
    assert.equal(rebuilt?.inlineCache, true);
    assert.equal(rebuilt?.noCache, false);

    world.noCache = true;
    const noCache = world.input(previous);
    const buildsBefore = engine.builds.length;
    await executePlan(
      { manifest: world.manifest, graph: noCache.graph, plan: world.plan(previous), sources: noCache.platforms },
      options({ noCache: true }),
    );
    const fresh = engine.builds.slice(buildsBefore);
    assert.equal(fresh.length, 2);
    assert.ok(fresh.every((b) => b.noCache && b.cacheFrom.length === 0));
  });

  it('publishes the shared-tag index once all platforms are in, and retags a reused platform without building', async () => {
    const manifest = makeManifest([
      {
        name: 'multi',
        images: [
          {
            sharedTags: ['latest'],
            platforms: [
              { dockerfile: 'multi/amd64/Dockerfile', tags: ['amd64'] },
              { dockerfile: 'multi/arm64/Dockerfile', tags: ['arm64'], architecture: 'arm64', variant: 'v8' },
            ],
          },
        ],
      },
    ]);
    const world = await materialize(manifest, root, { 'multi:amd64': 'FROM ext.example/os:1\n', 'multi:arm64': 'FROM ext.example/os:1\n' });
    const records = new Map<string, PlatformRecord>();
    const indexes = new Map<string, ManifestRecord>();
    const run = async (previous: ImageInfo | undefined) => {
      const input = world.input(previous);
      const plan = world.plan(previous);
      return executePlan(
        { manifest, graph: input.graph, plan, sources: input.platforms },
        options({
          onPlatformDone: (p, o) => void records.set(p.id, platformRecord(p, o)),
          onIndexPublished: (image, record) => void indexes.set(`${image.repo}#${image.imageIndex}`, record),
          previousIndex: (image) => previous?.repos.find((r) => r.repo === image.repo)?.images[image.imageIndex]?.manifest,
        }),
      );
    };

    const first = await run(undefined);
    assert.equal(first.ok, true);
    assert.equal(first.indexes.length, 1);
    const index = registry.manifests.get('127.0.0.1:5000/multi:latest');
    assert.equal(index?.mediaType, MediaType.dockerManifestList);
    const entries = (JSON.parse(index?.body.toString() ?? '{}') as { manifests: Array<{ digest: string; platform: object }> }).manifests;
    assert.deepEqual(
      entries.map((e) => [e.digest, e.platform]),
      [
        [records.get('multi:amd64')?.digest.split('@')[1], { architecture: 'amd64', os: 'linux' }],
        [records.get('multi:arm64')?.digest.split('@')[1], { architecture: 'arm64', os: 'linux', variant: 'v8' }],
      ],
    );
    assert.equal(indexes.get('multi#0')?.digest, `127.0.0.1:5000/multi@${index?.digest}`);

    // A new tag on the amd64 platform only: nothing builds, the tag is put on the recorded image.
    const amd64 = platformsOf(manifest)[0];
    amd64?.tags.push('amd64-extra');
    const previous = infoFrom(manifest, records, indexes);
    const buildsBefore = engine.builds.length;
    registry.puts = [];
    const second = await run(previous);
    assert.equal(second.ok, true);
    assert.equal(engine.builds.length, buildsBefore);
    assert.equal(second.outcomes.get('multi:amd64')?.action, 'retagged');
    assert.equal(second.outcomes.get('multi:arm64')?.action, 'reused');
    assert.deepEqual(registry.puts, ['127.0.0.1:5000/multi:amd64-extra'], 'the unchanged index is not written again');
    assert.equal(registry.manifests.get('127.0.0.1:5000/multi:amd64-extra')?.digest, registry.manifests.get('127.0.0.1:5000/multi:amd64')?.digest);
    assert.deepEqual(records.get('multi:amd64')?.simpleTags, ['amd64', 'amd64-extra']);
    assert.equal(second.indexes[0]?.unchanged, true);

    // Another tool moves the arm64 tag: the recorded image gets it back, nothing builds.
    const recorded = registry.manifests.get('127.0.0.1:5000/multi:arm64')?.digest;
    const elsewhere = registry.store('127.0.0.1:5000/multi:arm64', Buffer.from('{"schemaVersion":2,"layers":[]}'), MediaType.dockerManifest);
    world.movedTags.set('127.0.0.1:5000/multi:arm64', elsewhere);
    registry.puts = [];
    const third = await run(infoFrom(manifest, records, indexes));
    assert.equal(third.ok, true);
    assert.equal(engine.builds.length, buildsBefore);
    assert.equal(third.outcomes.get('multi:arm64')?.action, 'retagged');
    assert.deepEqual(third.outcomes.get('multi:arm64')?.notes, ['re-tagged arm64, which had moved']);
    assert.deepEqual(registry.puts, ['127.0.0.1:5000/multi:arm64']);
    assert.equal(registry.manifests.get('127.0.0.1:5000/multi:arm64')?.digest, recorded);
  });
});

describe('retag', () => {
  it('asks first and writes only the tags that do not already name the image', async () => {
    const registry = new MemoryRegistry();
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.dockerManifest, config: { digest: 'sha256:c' }, layers: [] }));
    const digest = registry.store('reg.example/r:old', body, MediaType.dockerManifest);
    registry.store('reg.example/r:same', body, MediaType.dockerManifest);
    const written = await retag(registry, `reg.example/r@${digest}`, ['reg.example/r:same', 'reg.example/r:new']);
    assert.deepEqual(written, ['reg.example/r:new']);
    assert.deepEqual(registry.puts, ['reg.example/r:new']);
    assert.equal(registry.manifests.get('reg.example/r:new')?.digest, digest);
    assert.deepEqual(await retag(registry, `reg.example/r@${digest}`, ['reg.example/r:new']), []);
    assert.deepEqual(registry.puts, ['reg.example/r:new']);
  });
});
