/**
 * `imagewright plan` and `imagewright graph` as a user runs them, against a private real registry
 * holding small generated images: the output shapes the issue names, what makes a platform build or
 * be reused, and how registry trouble (authentication, a missing image) is reported.
 *
 * Each test makes its own repositories under a fresh prefix, so moving a tag or deleting an image
 * in one test cannot change what another sees.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { publishSharedTagIndex } from '../../src/execute/index.js';
import { createRegistryClient } from '../../src/registry/index.js';
import { platformRecordIdentity, setImageManifest, upsertPlatformRecord, writeImageInfo, type FromImageRecord, type ImageInfo, type PlatformRecord } from '../../src/imageinfo/index.js';
import type { TargetPlatform } from '../../src/platform.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { MEDIA, pushImage, putManifest, type PushedImage } from '../helpers/registry-content.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

// ---------------------------------------------------------------- output shapes as the CLI prints them

interface PlanJsonReason {
  kind: string;
  detail: string;
  [field: string]: unknown;
}

interface PlanJsonPlatform {
  id: string;
  dockerfile: string;
  tags: string[];
  decision: 'build' | 'reuse';
  reasons: PlanJsonReason[];
  buildKey: string;
  fromImages: FromImageRecord[];
}

interface PlanJson {
  platforms: PlanJsonPlatform[];
  indexes: Array<{ repo: string; sharedTags: string[]; action: string; reasons: PlanJsonReason[] }>;
  registryRequests?: number;
}

interface GraphJson {
  nodes: Array<{ id: string; dockerfile: string; tags: string[] }>;
  edges: Array<{ from: string; to: string; via: string; stage: string }>;
}

// ---------------------------------------------------------------- a small repository of images

const AMD64: TargetPlatform = { os: 'linux', architecture: 'amd64' };
const ARM64: TargetPlatform = { os: 'linux', architecture: 'arm64' };

interface PlatformSpec {
  repo: string;
  dockerfile: string;
  tags: string[];
  architecture: 'amd64' | 'arm64';
}

/** One generated repository: its folder, its manifest's platforms, and the external images it reads. */
interface World {
  root: string;
  registry: TestRegistry;
  /** Unique repository path prefix of this world, e.g. `w3`. */
  prefix: string;
  /** `<host>/<prefix>/ext/<name>:1` by name. */
  ext: Record<'base' | 'tools' | 'assets' | 'multi', string>;
  /** Platform id → how the manifest defines it. */
  platforms: Map<string, PlatformSpec & { sharedTags: string[] }>;
  /** Digests the externals resolve to now: single images by name, the index per architecture. */
  digests: { base: string; tools: string; assets: string; multi: Record<string, string> };
  ids: { base: string; app: string; multiAmd64: string; multiArm64: string };
}

let counter = 0;
const roots: string[] = [];

async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, name)), { recursive: true });
    await writeFile(join(root, name), text);
  }
}

/** Push an index of one image per architecture; `layers` makes an architecture's image differ. */
async function pushMultiArch(registry: TestRegistry, repository: string, tag: string, layers: Record<string, string>): Promise<Record<string, PushedImage>> {
  const images: Record<string, PushedImage> = {};
  for (const platform of [AMD64, ARM64]) {
    images[platform.architecture] = await pushImage(registry, repository, undefined, {
      format: 'oci',
      platform,
      layerText: layers[platform.architecture] ?? `${repository} ${platform.architecture}`,
    });
  }
  const manifests = Object.values(images).map((image) => ({
    mediaType: image.mediaType,
    digest: image.digest,
    size: image.manifest.length,
    platform: { os: image.platform.os, architecture: image.platform.architecture },
  }));
  await putManifest(registry, repository, tag, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests })), MEDIA.ociIndex);
  return images;
}

/**
 * Externals: base and tools (single images), assets (read through RUN --mount), multi (an amd64 +
 * arm64 index). Platforms, in manifest order:
 *   team/base:1        base/ (a folder)          FROM ext/base, COPY --from ext/tools
 *   team/app:latest    app/Dockerfile.app        FROM team/base:1 AS build, RUN --mount from ext/assets, FROM build
 *   team/multi:1-amd64 multi/ (shared tag 1)     FROM ext/multi
 *   team/multi:1-arm64 multi/ (shared tag 1)     FROM ext/multi
 */
async function makeWorld(registry: TestRegistry): Promise<World> {
  const prefix = `w${++counter}`;
  const root = await mkdtemp(join(tmpdir(), 'iw-cli-plan-'));
  roots.push(root);
  const host = registry.host;
  const ext = {
    base: `${host}/${prefix}/ext/base:1`,
    tools: `${host}/${prefix}/ext/tools:1`,
    assets: `${host}/${prefix}/ext/assets:1`,
    multi: `${host}/${prefix}/ext/multi:1`,
  };
  const base = await pushImage(registry, `${prefix}/ext/base`, '1');
  const tools = await pushImage(registry, `${prefix}/ext/tools`, '1');
  const assets = await pushImage(registry, `${prefix}/ext/assets`, '1');
  const multi = await pushMultiArch(registry, `${prefix}/ext/multi`, '1', {});
  const team = (name: string): string => `${prefix}/team/${name}`;
  const spec = (repo: string, dockerfile: string, tags: string[], architecture: 'amd64' | 'arm64' = 'amd64') => ({
    dockerfile,
    os: 'linux',
    osVersion: 'bookworm',
    ...(architecture !== 'amd64' && { architecture }),
    tags: Object.fromEntries(tags.map((t) => [t, {}])),
  });
  const manifest = {
    registry: host,
    repos: [
      { name: team('base'), images: [{ platforms: [spec(team('base'), 'base', ['1'])] }] },
      // Tags deliberately not in sorted order: output keeps manifest order.
      { name: team('app'), images: [{ platforms: [spec(team('app'), 'app/Dockerfile.app', ['latest', '2.0', '10.1'])] }] },
      {
        name: team('multi'),
        images: [{ sharedTags: { '1': {} }, platforms: [spec(team('multi'), 'multi', ['1-amd64']), spec(team('multi'), 'multi', ['1-arm64'], 'arm64')] }],
      },
    ],
  };
  await writeFiles(root, {
    'manifest.json': JSON.stringify(manifest, null, 2),
    'base/Dockerfile': `FROM ${ext.base}\nCOPY --from=${ext.tools} /tools /tools\n`,
    'app/Dockerfile.app': `FROM ${host}/${team('base')}:1 AS build\nRUN --mount=from=${ext.assets},target=/assets cp -r /assets /opt\nFROM build\n`,
    'multi/Dockerfile': `FROM ${ext.multi}\n`,
  });
  await mkdir(join(root, '.docker'));
  const ids = { base: `${team('base')}:1`, app: `${team('app')}:latest`, multiAmd64: `${team('multi')}:1-amd64`, multiArm64: `${team('multi')}:1-arm64` };
  const platforms = new Map<string, PlatformSpec & { sharedTags: string[] }>([
    [ids.base, { repo: team('base'), dockerfile: 'base', tags: ['1'], architecture: 'amd64', sharedTags: [] }],
    [ids.app, { repo: team('app'), dockerfile: 'app/Dockerfile.app', tags: ['latest', '2.0', '10.1'], architecture: 'amd64', sharedTags: [] }],
    [ids.multiAmd64, { repo: team('multi'), dockerfile: 'multi', tags: ['1-amd64'], architecture: 'amd64', sharedTags: ['1'] }],
    [ids.multiArm64, { repo: team('multi'), dockerfile: 'multi', tags: ['1-arm64'], architecture: 'arm64', sharedTags: ['1'] }],
  ]);
  return {
    root,
    registry,
    prefix,
    ext,
    platforms,
    digests: {
      base: base.digest,
      tools: tools.digest,
      assets: assets.digest,
      multi: { amd64: multi.amd64?.digest ?? '', arm64: multi.arm64?.digest ?? '' },
    },
    ids,
  };
}

/** The CLI in the world's folder, with a Docker config holding no credentials unless a test adds one. */
function cli(world: World, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCli(args, { cwd: world.root, env: { DOCKER_CONFIG: join(world.root, '.docker'), ...env } });
}

async function planJson(world: World, ...extra: string[]): Promise<PlanJson> {
  const result = await cli(world, ['plan', '--format', 'json', '--image-info', 'image-info.json', ...extra]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, '');
  return JSON.parse(result.stdout) as PlanJson;
}

function byId(plan: PlanJson): Map<string, PlanJsonPlatform> {
  return new Map(plan.platforms.map((p) => [p.id, p]));
}

/** The decision of every platform, and the kinds of its reasons. */
function decisions(plan: PlanJson): Record<string, string> {
  return Object.fromEntries(plan.platforms.map((p) => [p.id, [p.decision, ...p.reasons.map((r) => r.kind)].join(' ')]));
}

/**
 * What a build that pushed every platform of `plan` would have recorded: an image pushed per platform
 * under its tags (so the recorded digest exists and the tags name it), the plan's build key and reads. `imageBuilder` leaves out what
 * ImageBuilder does not write (build key, reads).
 */
async function writeBuiltImageInfo(world: World, plan: PlanJson, options: { imageBuilder?: boolean } = {}): Promise<Map<string, string>> {
  let info: ImageInfo = { schemaVersion: '2.0', repos: [] };
  const pushed = new Map<string, string>();
  for (const p of plan.platforms) {
    const spec = world.platforms.get(p.id);
    assert.ok(spec, `unknown platform ${p.id}`);
    const platform = { os: 'linux', osVersion: 'bookworm', architecture: spec.architecture, dockerfile: spec.dockerfile, tags: spec.tags };
    // Under the platform's tags, as the build pushes it: plan checks that they still name it.
    const image = await pushImage(world.registry, spec.repo, spec.tags[0], {
      platform: { os: 'linux', architecture: spec.architecture },
      layerText: `built ${p.id} ${p.buildKey}`,
    });
    for (const tag of spec.tags.slice(1)) await putManifest(world.registry, spec.repo, tag, image.manifest, image.mediaType);
    const digest = `${world.registry.host}/${spec.repo}@${image.digest}`;
    pushed.set(p.id, digest);
    const record: PlatformRecord = { ...platformRecordIdentity(platform), digest, layers: [] };
    if (!options.imageBuilder) Object.assign(record, { buildKey: p.buildKey, fromImages: p.fromImages });
    info = upsertPlatformRecord(info, spec.repo, { sharedTags: spec.sharedTags, platforms: [platform] }, record);
  }
  // The shared tags' index, published as `build --push` does once every platform of the image is pushed.
  const shared = [...world.platforms].filter(([id, spec]) => spec.sharedTags.length > 0 && pushed.has(id));
  if (shared.length > 0 && !options.imageBuilder) {
    const [, first] = shared[0] as [string, PlatformSpec & { sharedTags: string[] }];
    const client = createRegistryClient();
    const platforms = shared.map(([id, spec]) => ({ image: pushed.get(id) ?? '', os: 'linux', architecture: spec.architecture }));
    const index = await publishSharedTagIndex(client, {
      platforms,
      sharedTags: first.sharedTags,
      tags: first.sharedTags.map((t) => `${world.registry.host}/${first.repo}:${t}`),
      previous: undefined,
      now: () => new Date(),
    });
    const images = shared.map(([, spec]) => ({ os: 'linux', osVersion: 'bookworm', architecture: spec.architecture, dockerfile: spec.dockerfile, tags: spec.tags }));
    info = setImageManifest(info, first.repo, { sharedTags: first.sharedTags, platforms: images }, {
      digest: index.digest,
      sharedTags: [...first.sharedTags],
    });
  }
  await writeImageInfo(join(world.root, 'image-info.json'), info);
  return pushed;
}

// ---------------------------------------------------------------- tests

let registry: TestRegistry;

before(async () => {
  registry = await startRegistry();
});

after(async () => {
  await registry?.stop();
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

describe('plan and graph output', { timeout: 5 * 60_000 }, () => {
  it('plan --format json: every platform new without an image-info, in the issue\'s shape', async () => {
    const world = await makeWorld(registry);
    const plan = await planJson(world);
    const { ids, ext, digests } = world;
    const host = registry.host;
    assert.deepEqual(Object.keys(plan), ['platforms', 'indexes', 'registryRequests']);
    // Without an image-info nothing recorded is checked: only the external images are resolved.
    const requests = (plan as unknown as { registryRequests: unknown }).registryRequests;
    assert.ok(typeof requests === 'number' && requests > 0 && requests < 20, `registryRequests: ${String(requests)}`);
    assert.deepEqual(
      plan.indexes.map((i) => [i.repo, i.sharedTags, i.action, i.reasons.map((r) => r.kind)]),
      [[`${world.prefix}/team/multi`, ['1'], 'create', ['new-index']]],
      'the shared tag\'s index is created',
    );
    assert.deepEqual(
      plan.platforms.map((p) => p.id),
      [ids.base, ids.app, ids.multiAmd64, ids.multiArm64],
      'build order: upstream first, then manifest order',
    );
    for (const p of plan.platforms) {
      for (const key of ['dockerfile', 'tags', 'decision', 'reasons', 'buildKey', 'fromImages']) assert.ok(key in p, `${p.id} has ${key}`);
      assert.equal(p.decision, 'build');
      assert.deepEqual(p.reasons.map((r) => r.kind), ['new'], p.id);
      assert.equal(typeof p.reasons[0]?.detail, 'string');
      assert.match(p.buildKey, /^sha256:[0-9a-f]{64}$/);
    }
    const plat = byId(plan);
    assert.equal(plat.get(ids.base)?.dockerfile, 'base/Dockerfile', 'a folder gets /Dockerfile appended');
    assert.equal(plat.get(ids.app)?.dockerfile, 'app/Dockerfile.app', 'a file stays as named, relative to the manifest folder');
    assert.deepEqual(plat.get(ids.app)?.tags, ['latest', '2.0', '10.1'], 'tags in manifest order');
    assert.deepEqual(plat.get(ids.base)?.fromImages, [
      { stage: '0', instruction: 'FROM', ref: ext.base, digest: digests.base, internal: false },
      { stage: '0', instruction: 'COPY', ref: ext.tools, digest: digests.tools, internal: false },
    ]);
    const appReads = plat.get(ids.app)?.fromImages ?? [];
    assert.deepEqual(
      appReads.map(({ stage, instruction, ref, digest, internal }) => ({ stage, instruction, ref, digest, internal })),
      [
        { stage: 'build', instruction: 'FROM', ref: `${host}/${world.prefix}/team/base:1`, digest: '', internal: true },
        { stage: 'build', instruction: 'MOUNT', ref: ext.assets, digest: digests.assets, internal: false },
      ],
    );
    assert.equal(appReads[0]?.buildKey, plat.get(ids.base)?.buildKey, 'an internal read enters with its upstream\'s build key');
    assert.equal(plat.get(ids.multiAmd64)?.fromImages[0]?.digest, digests.multi.amd64, 'an index resolves to the platform\'s own entry');
    assert.equal(plat.get(ids.multiArm64)?.fromImages[0]?.digest, digests.multi.arm64);
  });

  it('plan --exit-code exits 10 when anything must build, 0 when nothing must', async () => {
    const world = await makeWorld(registry);
    const stale = await cli(world, ['plan', '--exit-code', '--image-info', 'image-info.json']);
    assert.equal(stale.code, 10, stale.stderr);
    const withoutFlag = await cli(world, ['plan', '--image-info', 'image-info.json']);
    assert.equal(withoutFlag.code, 0, 'without --exit-code a plan with builds is still a success');

    await writeBuiltImageInfo(world, await planJson(world));
    const fresh = await cli(world, ['plan', '--exit-code', '--format', 'json', '--image-info', 'image-info.json']);
    assert.equal(fresh.code, 0, fresh.stderr);
    const plan = JSON.parse(fresh.stdout) as PlanJson;
    assert.deepEqual(new Set(plan.platforms.map((p) => `${p.decision} ${p.reasons.length}`)), new Set(['reuse 0']));
  });

  it('a shared tag moved by hand: the index is moved back (exit 10, reason index-tag-moved), and build --push puts the recorded index back under it without building', async () => {
    const world = await makeWorld(registry);
    await writeBuiltImageInfo(world, await planJson(world));
    const fresh = await planJson(world);
    const sharedTag = `${registry.host}/${world.prefix}/team/multi:1`;
    const client = createRegistryClient();
    const recorded = (await client.headManifest(sharedTag))?.digest ?? '';
    assert.match(recorded, /^sha256:/);
    // Someone pushes another image under the shared tag.
    const other = await pushImage(registry, `${world.prefix}/team/multi`, '1', { layerText: 'pushed by hand over a shared tag' });
    const moved = await planJson(world);
    assert.deepEqual(moved.indexes.map((i) => [i.sharedTags, i.action, i.reasons.map((r) => r.detail)]), [
      [['1'], 'move', [`shared tag 1 names ${other.digest.slice(0, 19)}, not the recorded index ${recorded.slice(0, 19)}`]],
    ]);
    assert.equal(moved.registryRequests, (fresh.registryRequests ?? 0) + 1, 'one more request, for the recorded index behind the moved tag');
    assert.equal((await cli(world, ['plan', '--exit-code', '--image-info', 'image-info.json'])).code, 10);

    const build = await cli(world, ['build', '--push', '--image-info', 'image-info.json']);
    assert.equal(build.code, 0, build.stderr);
    assert.equal((await client.headManifest(sharedTag))?.digest, recorded, 'the shared tag names the recorded index again');
    assert.deepEqual((await planJson(world)).indexes.map((i) => i.action), ['unchanged']);

    // The CI workflow's publish step (publish-manifest after the legs' merge) puts it back too, and keeps the record.
    await pushImage(registry, `${world.prefix}/team/multi`, '1', { layerText: 'pushed by hand over a shared tag, again' });
    const infoBefore = await readFile(join(world.root, 'image-info.json'), 'utf8');
    const published = await cli(world, ['publish-manifest', '--image-info', 'image-info.json']);
    assert.equal(published.code, 0, published.stderr);
    assert.match(published.stdout, new RegExp(`published → ${recorded}`));
    assert.equal((await client.headManifest(sharedTag))?.digest, recorded);
    assert.equal(await readFile(join(world.root, 'image-info.json'), 'utf8'), infoBefore, 'the record stands');
  });

  it('a shared-tag-only change: a publish action with its reason, exit 10, and matrix --only-changed keeps the publish step', async () => {
    const world = await makeWorld(registry);
    await writeBuiltImageInfo(world, await planJson(world));
    const manifestFile = join(world.root, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as { repos: Array<{ images: Array<{ sharedTags?: Record<string, object> }> }> };
    const multi = manifest.repos[2]?.images[0];
    assert.ok(multi?.sharedTags);
    multi.sharedTags['1.0'] = {};
    await writeFile(manifestFile, JSON.stringify(manifest, null, 2));

    const plan = await planJson(world);
    assert.deepEqual(new Set(plan.platforms.map((p) => p.decision)), new Set(['reuse']), 'no platform builds');
    assert.deepEqual(plan.indexes.map((i) => [i.sharedTags, i.action]), [[['1', '1.0'], 'move']]);
    assert.deepEqual(plan.indexes[0]?.reasons, [{ kind: 'tags-changed', detail: 'shared tags changed: new tag 1.0', added: ['1.0'], removed: [] }]);

    const exit = await cli(world, ['plan', '--exit-code', '--image-info', 'image-info.json']);
    assert.equal(exit.code, 10, exit.stderr);
    assert.match(exit.stdout, new RegExp(`^move\\s+${world.prefix}/team/multi:1,1\\.0\\s+shared tags changed: new tag 1\\.0$`, 'm'));
    assert.match(exit.stdout, /^0 to build, 4 to reuse, 1 shared-tag index to publish$/m);

    const outputs = join(world.root, 'outputs.txt');
    const github = await cli(world, ['plan', '--format', 'github', '--image-info', 'image-info.json'], { GITHUB_OUTPUT: outputs });
    assert.equal(github.code, 0, github.stderr);
    assert.match(github.stdout, /^## imagewright plan: 1 shared-tag index to publish$/m);
    assert.match(github.stdout, /\| move \| `[^`]*multi:1,1\.0` \| shared tags changed: new tag 1\.0 \|/);
    assert.equal(await readFile(outputs, 'utf8'), 'stale=true\nbuild-count=0\npublish-count=1\n');

    const matrix = await cli(world, ['matrix', '--only-changed', '--image-info', 'image-info.json']);
    assert.equal(matrix.code, 0, matrix.stderr);
    const { plan: matrixPlan, ...rest } = JSON.parse(matrix.stdout) as { plan?: { legs: unknown[] } };
    assert.deepEqual(rest, { waves: 0, publish: true, legs: [] });
    assert.deepEqual(matrixPlan?.legs, [], 'the plan names no leg');
  });

  it('plan text: a table with a header, one row per platform, and a summary line', async () => {
    const world = await makeWorld(registry);
    const result = await cli(world, ['plan', '--image-info', 'image-info.json']);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^DECISION\s+PLATFORM\s+DOCKERFILE\s+WHY$/);
    for (const [id, row] of [
      [world.ids.base, 'base/Dockerfile'],
      [world.ids.app, 'app/Dockerfile.app'],
    ] as const) {
      assert.ok(
        lines.some((l) => new RegExp(`^build\\s+${id.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\s+${row.replace('.', '\\.')}\\s+no previous image-info$`).test(l)),
        `a row for ${id}:\n${result.stdout}`,
      );
    }
    assert.equal(lines.length, 1 + 4 + 1 + 2 + 2, 'header, four rows, a blank line, the index table (header, one row), a blank line, the summary');
    assert.match(lines[6] ?? '', /^INDEX\s+SHARED TAGS\s+WHY$/);
    assert.match(lines[7] ?? '', /^create\s+\S+team\/multi:1\s+shared tag 1 is new$/);
    assert.equal(lines.at(-1), '4 to build, 0 to reuse, 1 shared-tag index to publish');

    await writeBuiltImageInfo(world, await planJson(world));
    const reused = await cli(world, ['plan', '--image-info', 'image-info.json']);
    assert.equal(reused.stdout.trimEnd().split('\n').at(-1), '0 to build, 4 to reuse, 0 shared-tag indexes to publish');
    assert.match(reused.stdout, /^reuse\s+\S+team\/app:latest\s+app\/Dockerfile\.app\s+unchanged$/m);
  });

  it('graph --format json, mermaid and dot', async () => {
    const world = await makeWorld(registry);
    const { ids } = world;
    const result = await cli(world, ['graph', '--format', 'json']);
    assert.equal(result.code, 0, result.stderr);
    const graph = JSON.parse(result.stdout) as GraphJson;
    assert.deepEqual(Object.keys(graph), ['nodes', 'edges']);
    assert.deepEqual(graph.nodes, [
      { id: ids.base, dockerfile: 'base/Dockerfile', tags: ['1'] },
      { id: ids.app, dockerfile: 'app/Dockerfile.app', tags: ['latest', '2.0', '10.1'] },
      { id: ids.multiAmd64, dockerfile: 'multi/Dockerfile', tags: ['1-amd64'] },
      { id: ids.multiArm64, dockerfile: 'multi/Dockerfile', tags: ['1-arm64'] },
    ]);
    assert.deepEqual(graph.edges, [{ from: ids.base, to: ids.app, via: 'FROM', stage: 'build' }]);

    for (const format of ['mermaid', 'dot']) {
      const rendered = await cli(world, ['graph', '--format', format]);
      assert.equal(rendered.code, 0, rendered.stderr);
      assert.match(rendered.stdout, format === 'mermaid' ? /^flowchart LR\n/ : /^digraph /);
      for (const id of Object.values(ids)) assert.ok(rendered.stdout.includes(id), `${format} mentions ${id}`);
      assert.match(rendered.stdout, format === 'mermaid' ? / -->\|"FROM, stage build"\| / : / -> .*\[label="FROM, stage build"\]/);
    }
  });

  it('graph reads no registry: it works with the registry unreachable', async () => {
    const world = await makeWorld(registry);
    // Any registry request would go to a port nothing listens on.
    const result = await cli(world, ['graph', '--registry-override', '127.0.0.1:1']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as GraphJson).nodes.length, 4);
  });
});

describe('plan decisions', { timeout: 5 * 60_000 }, () => {
  it('--no-cache builds everything, with reason no-cache', async () => {
    const world = await makeWorld(registry);
    await writeBuiltImageInfo(world, await planJson(world));
    const plan = await planJson(world, '--no-cache');
    for (const p of plan.platforms) {
      assert.equal(p.decision, 'build', p.id);
      assert.deepEqual(p.reasons.map((r) => r.kind), ['no-cache'], p.id);
    }
  });

  it('an image-info written by ImageBuilder (no build keys) rebuilds every platform once, with reason no-build-key', async () => {
    const world = await makeWorld(registry);
    await writeBuiltImageInfo(world, await planJson(world), { imageBuilder: true });
    const plan = await planJson(world);
    assert.deepEqual(new Set(Object.values(decisions(plan))), new Set(['build no-build-key']));
  });

  it('a recorded image deleted from the registry rebuilds that platform alone, with reason image-missing', async () => {
    const world = await makeWorld(registry);
    const pushed = await writeBuiltImageInfo(world, await planJson(world));
    const gone = pushed.get(world.ids.base) ?? '';
    const [repository, digest] = gone.slice(registry.host.length + 1).split('@');
    const deleted = await fetch(`${registry.url}/v2/${repository}/manifests/${digest}`, { method: 'DELETE' });
    assert.equal(deleted.status, 202);

    const plan = await planJson(world);
    assert.deepEqual(decisions(plan), {
      [world.ids.base]: 'build image-missing',
      // Same key: app was built from an equivalent base, so it is not rebuilt.
      [world.ids.app]: 'reuse',
      [world.ids.multiAmd64]: 'reuse',
      [world.ids.multiArm64]: 'reuse',
    });
    const reason = byId(plan).get(world.ids.base)?.reasons[0];
    assert.equal(reason?.digest, gone);
    assert.ok(reason?.detail.includes(gone), reason?.detail);
  });

  it('an external tag moved rebuilds exactly the platforms that read it, naming stage, instruction, ref and both digests', async () => {
    const world = await makeWorld(registry);
    await writeBuiltImageInfo(world, await planJson(world));
    const moved = await pushImage(registry, `${world.prefix}/ext/assets`, '1', { layerText: 'assets, second release' });

    const plan = await planJson(world);
    assert.deepEqual(decisions(plan), {
      [world.ids.base]: 'reuse',
      [world.ids.app]: 'build from-image-changed',
      [world.ids.multiAmd64]: 'reuse',
      [world.ids.multiArm64]: 'reuse',
    });
    const reason = byId(plan).get(world.ids.app)?.reasons[0];
    assert.deepEqual(
      { ...reason, detail: undefined },
      {
        kind: 'from-image-changed',
        detail: undefined,
        stage: 'build',
        instruction: 'MOUNT',
        ref: world.ext.assets,
        oldDigest: world.digests.assets,
        newDigest: moved.digest,
      },
    );
    assert.match(reason?.detail ?? '', new RegExp(`RUN --mount from ${world.ext.assets.replace(/[.]/g, '\\.')} in stage build changed \\(${world.digests.assets.slice(0, 19)}.* → ${moved.digest.slice(0, 19)}`));
  });

  it('an upstream\'s external image moved rebuilds it and, through its new key, its dependents', async () => {
    const world = await makeWorld(registry);
    await writeBuiltImageInfo(world, await planJson(world));
    await pushImage(registry, `${world.prefix}/ext/tools`, '1', { layerText: 'tools, second release' });

    const plan = await planJson(world);
    assert.deepEqual(decisions(plan), {
      [world.ids.base]: 'build from-image-changed',
      [world.ids.app]: 'build upstream-rebuilt',
      [world.ids.multiAmd64]: 'reuse',
      [world.ids.multiArm64]: 'reuse',
    });
    assert.equal(byId(plan).get(world.ids.base)?.reasons[0]?.instruction, 'COPY');
    assert.equal(byId(plan).get(world.ids.app)?.reasons[0]?.upstream, world.ids.base);
  });

  it('a multi-arch external image: a change to another architecture\'s entry does not rebuild, a change to its own does', async () => {
    const world = await makeWorld(registry);
    await writeBuiltImageInfo(world, await planJson(world));
    const repository = `${world.prefix}/ext/multi`;

    // New arm64 image, same amd64 image: the index digest changes, amd64's entry does not.
    const armMoved = await pushMultiArch(registry, repository, '1', { arm64: 'arm64, second release' });
    assert.equal(armMoved.amd64?.digest, world.digests.multi.amd64);
    let plan = await planJson(world);
    assert.deepEqual(decisions(plan), {
      [world.ids.base]: 'reuse',
      [world.ids.app]: 'reuse',
      [world.ids.multiAmd64]: 'reuse',
      [world.ids.multiArm64]: 'build from-image-changed',
    });
    assert.equal(byId(plan).get(world.ids.multiArm64)?.reasons[0]?.oldDigest, world.digests.multi.arm64);
    assert.equal(byId(plan).get(world.ids.multiArm64)?.reasons[0]?.newDigest, armMoved.arm64?.digest);

    // Now amd64's own entry changes too.
    const amdMoved = await pushMultiArch(registry, repository, '1', { arm64: 'arm64, second release', amd64: 'amd64, second release' });
    plan = await planJson(world);
    assert.equal(decisions(plan)[world.ids.multiAmd64], 'build from-image-changed');
    assert.equal(byId(plan).get(world.ids.multiAmd64)?.reasons[0]?.newDigest, amdMoved.amd64?.digest);
  });

  it('a FROM naming an image that does not exist: one line naming the Dockerfile, line and reference', async () => {
    const world = await makeWorld(registry);
    const missing = `${registry.host}/${world.prefix}/ext/never-pushed:1`;
    await writeFiles(world.root, { 'multi/Dockerfile': `# a comment\nFROM ${world.ext.multi} AS base\nCOPY --from=${missing} /a /a\n` });
    const result = await cli(world, ['plan', '--image-info', 'image-info.json']);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^[^\n]*\n$/);
    assert.equal(result.stderr, `imagewright: error: multi/Dockerfile: line 3: image ${missing} does not exist in its registry\n`);
  });
});

describe('plan against a registry that requires authentication', { timeout: 5 * 60_000 }, () => {
  let secured: TestRegistry;
  let world: World;

  before(async () => {
    secured = await startRegistry({ auth: 'basic', password: 'pl4n-s3cret-Pa55' });
    world = await makeWorld(secured);
  });

  after(async () => {
    await secured?.stop();
  });

  async function dockerConfig(name: string, password: string): Promise<string> {
    const dir = join(world.root, name);
    const auth = Buffer.from(`${secured.username}:${password}`).toString('base64');
    await writeFiles(dir, { 'config.json': JSON.stringify({ auths: { [secured.host]: { auth } } }) });
    return dir;
  }

  function assertAuthFailure(result: CliResult): void {
    assert.equal(result.code, 3, result.stderr);
    assert.equal(result.stdout, '', 'no plan printed: a refused request is never read as a cache miss');
    assert.match(result.stderr, /^imagewright: error: [^\n]*\n$/);
    assert.match(result.stderr, /^imagewright: error: authentication failed: /);
    assert.ok(result.stderr.includes(secured.host), result.stderr);
    assert.doesNotMatch(result.stderr, /\bnew\b|no previous image-info/);
  }

  it('without credentials: exit 3 and one line saying authentication failed, with or without an image-info file', async () => {
    assertAuthFailure(await cli(world, ['plan', '--image-info', 'image-info.json']));
    // Without --image-info the previous run is read from the registry's labels: a 401 there is no "new" either.
    assertAuthFailure(await cli(world, ['plan', '--format', 'json']));
  });

  it('without credentials, reading the previous run from labels: exit 3, not "new", even when no Dockerfile reads the registry', async () => {
    const root = await mkdtemp(join(tmpdir(), 'iw-cli-plan-labels-'));
    roots.push(root);
    const repos = [{ name: `${world.prefix}/team/scratch`, images: [{ platforms: [{ dockerfile: 'scratch', os: 'linux', osVersion: 'bookworm', tags: { '1': {} } }] }] }];
    await writeFiles(root, { 'manifest.json': JSON.stringify({ registry: secured.host, repos }), 'scratch/Dockerfile': 'FROM scratch\nCOPY . /\n' });
    await mkdir(join(root, '.docker'));
    const result = await runCli(['plan', '--exit-code'], { cwd: root, env: { DOCKER_CONFIG: join(root, '.docker') } });
    assertAuthFailure(result);
  });

  it('with a wrong password: exit 3, and the password appears nowhere', async () => {
    const wrong = 'wr0ng-Pa55-for-plan';
    const result = await cli(world, ['plan', '--image-info', 'image-info.json'], { DOCKER_CONFIG: await dockerConfig('wrong', wrong) });
    assertAuthFailure(result);
    assert.ok(!result.stderr.includes(wrong) && !result.stderr.includes(Buffer.from(`${secured.username}:${wrong}`).toString('base64')));
  });

  it('with credentials in DOCKER_CONFIG: plans, and prints no credential', async () => {
    const config = await dockerConfig('good', secured.password);
    const result = await cli(world, ['plan', '--format', 'json', '--image-info', 'image-info.json'], { DOCKER_CONFIG: config });
    assert.equal(result.code, 0, result.stderr);
    const plan = JSON.parse(result.stdout) as PlanJson;
    assert.equal(plan.platforms.length, 4);
    assert.equal(byId(plan).get(world.ids.base)?.fromImages[0]?.digest, world.digests.base);
    const fromLabels = await cli(world, ['plan'], { DOCKER_CONFIG: config });
    assert.equal(fromLabels.code, 0, fromLabels.stderr);
    const basic = Buffer.from(`${secured.username}:${secured.password}`).toString('base64');
    for (const output of [result.stdout, result.stderr, fromLabels.stdout, fromLabels.stderr]) {
      assert.ok(!output.includes(secured.password) && !output.includes(basic), 'no credential in the output');
    }
  });
});
