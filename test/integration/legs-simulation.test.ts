/**
 * Scale-out, simulated on one machine: the example repository (with a cross-architecture read and an
 * image whose shared tags span two legs) is split into legs; each leg builds in its own copy of the
 * repository, wave after wave, each wave reading the merged image-info of the earlier ones; then
 * the legs are merged and the shared-tag indexes published. The result must equal a single
 * `build --push` of the same change.
 *
 * Both runs use one repo prefix, one after the other: a prefix enters the build args
 * ($(Repo:prereqs)), so only under the same prefix can build keys be compared. Digests are not
 * compared between the runs (each build stamps its creation time); instead, each run's tags are
 * checked to resolve to exactly the digests its image-info records.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findPlatformRecord, readImageInfo, type ImageInfo, type PlatformRecord } from '../../src/imageinfo/index.js';
import type { MatrixEntry } from '../../src/matrix/index.js';
import { createRegistryClient } from '../../src/registry/index.js';
import { type CliResult, runCli, succeeded } from '../helpers/cli.js';
import { engineProcessEnv, ensureBaseImages, loadEngineEnv, uniqueRepoPrefix } from '../helpers/engine.js';
import { copyExample } from '../helpers/legs.js';

function records(info: ImageInfo): Array<{ repo: string; record: PlatformRecord }> {
  return info.repos.flatMap((r) => r.images.flatMap((i) => i.platforms.map((record) => ({ repo: r.repo, record }))));
}

describe('build legs, merged and published, equal one build --push', { timeout: 20 * 60_000 }, () => {
  let root: string;
  let prefix: string;
  const registry = createRegistryClient();
  let env: NodeJS.ProcessEnv;

  before(async () => {
    loadEngineEnv();
    env = engineProcessEnv();
    await ensureBaseImages();
    prefix = `${uniqueRepoPrefix('legs')}/`;
    root = await mkdtemp(join(tmpdir(), 'iw-legs-'));
  });

  after(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  const cli = (args: string[], cwd: string): Promise<CliResult> => runCli([...args, '--repo-prefix', prefix], { cwd, env, timeoutMs: 10 * 60_000 });

  /** Every tag the image-info records resolves, in the registry, to the digest it records. */
  async function assertTagsMatch(info: ImageInfo): Promise<number> {
    let checked = 0;
    for (const repo of info.repos) {
      for (const image of repo.images) {
        for (const p of image.platforms) {
          for (const tag of p.simpleTags) {
            const manifest = await registry.getManifest(`127.0.0.1:5000/${prefix}${repo.repo}:${tag}`);
            // ImageBuilder's form: the manifest's registry and repo name; the run staged it under the prefix.
            assert.equal(`127.0.0.1:5000/${repo.repo}@${manifest.digest}`, p.digest, `${repo.repo}:${tag}`);
            checked++;
          }
        }
        for (const tag of image.manifest?.sharedTags ?? []) {
          const manifest = await registry.getManifest(`127.0.0.1:5000/${prefix}${repo.repo}:${tag}`);
          assert.equal(`127.0.0.1:5000/${repo.repo}@${manifest.digest}`, image.manifest?.digest, `${repo.repo}:${tag} (index)`);
          checked++;
        }
      }
    }
    return checked;
  }

  /**
   * The matrix's legs, each in its own copy of the repository (changed by `edit`), wave after wave,
   * each wave starting from the image-info of the waves before it merged over the committed one;
   * then the final merge and publish. Returns each leg's stderr.
   */
  async function runLegs(coordinator: string, matrixArgs: string[], edit: (dir: string) => Promise<void>): Promise<{ legs: MatrixEntry[]; waves: number; logs: string[] }> {
    const { stdout } = succeeded(await cli(['matrix', '--format', 'json', ...matrixArgs], coordinator), 'matrix');
    const matrix = JSON.parse(stdout) as { waves: number; legs: MatrixEntry[] };
    const legFiles: string[] = [];
    const logs: string[] = [];
    const committed = join(coordinator, 'image-info.json');
    for (let wave = 0; wave < matrix.waves; wave++) {
      const waveFiles: string[] = [];
      for (const leg of matrix.legs.filter((l) => l.wave === wave)) {
        const dir = await copyExample(root, `leg-${leg.leg}-${Date.now().toString(36)}`);
        await edit(dir);
        const start = wave > 0 ? join(coordinator, 'waves.json') : committed;
        if (existsSync(start)) await cp(start, join(dir, 'image-info.json'));
        const out = join(root, `${leg.leg}-${Date.now().toString(36)}.json`);
        logs.push(succeeded(await cli(['build', '--push', '--leg', leg.leg, '-i', 'image-info.json', '--image-info-out', out], dir), `leg ${leg.leg}`).stderr);
        waveFiles.push(out);
      }
      // Between waves: the committed file with the legs so far laid over it.
      if (existsSync(committed)) await cp(committed, join(coordinator, 'waves.json'));
      succeeded(await cli(['merge-image-info', '--out', 'waves.json', ...legFiles, ...waveFiles], coordinator), `merge wave ${wave}`);
      legFiles.push(...waveFiles);
    }
    succeeded(await cli(['merge-image-info', '--out', 'image-info.json', '--publish', ...legFiles], coordinator), 'final merge');
    await rm(join(coordinator, 'waves.json'), { force: true });
    return { ...matrix, logs };
  }

  const unchanged = async (): Promise<void> => undefined;
  /** The change of the second round: builder's context, so builder and what is built from it (wave 1 too) rebuild. */
  const newBuilder = async (dir: string): Promise<void> => writeFile(join(dir, 'src/builder/amd64/rootfs/VERSION'), 'rootfs 2.0\n');

  /** Each platform's isUnchanged, by Dockerfile. */
  const unchangedFlags = (info: ImageInfo) =>
    Object.fromEntries(records(info).map(({ record }) => [`${record.dockerfile} ${record.architecture}${record.variant ?? ''}`, record.isUnchanged === true]));

  it('runs the legs wave by wave, merges, publishes, and matches the single build, also in isUnchanged under --only-changed', async () => {
    // The legs first: a run that finds at its tags images of its own build keys reuses them
    // (docs/decisions.md), so each side builds from an empty registry location in turn.
    const coordinator = await copyExample(root, 'coordinator');
    const first = await runLegs(coordinator, [], unchanged);
    assert.equal(first.waves, 2);
    assert.deepEqual(
      first.legs.filter((l) => l.wave === 1).map((l) => [l.leg, l.dependsOn]),
      [['linux-amd64v2-src-cross-arm64', ['linux-amd64-src-builder-graph']]],
    );
    assert.ok(first.logs.every((log) => !log.includes('pushed by an earlier attempt')), 'every leg built');
    const published = succeeded(await cli(['publish-manifest', '-i', 'image-info.json'], coordinator), 'publish-manifest');
    assert.match(published.stdout, /\[utils\] published/);
    const legsInfo = (await readImageInfo(join(coordinator, 'image-info.json'))) as ImageInfo;

    // The wave-1 leg read the image wave 0 pushed, taken from the merged image-info.
    // image-info names the repo as the manifest does; the prefix is only where the images are.
    const repo = 'prereqs';
    const builder = findPlatformRecord(legsInfo, repo, { dockerfile: 'src/builder/amd64', os: 'linux', osVersion: 'busybox', architecture: 'amd64' });
    const cross = findPlatformRecord(legsInfo, repo, { dockerfile: 'src/cross/arm64', os: 'linux', osVersion: 'busybox', architecture: 'amd64', variant: 'v2' });
    const readBuilder = cross?.fromImages?.find((f) => f.internal && f.ref.endsWith(':builder-amd64'));
    assert.ok(builder?.digest && readBuilder);
    assert.equal(`127.0.0.1:5000/${repo}@${readBuilder.digest}`, builder.digest);

    // Every tag (and the index) in the registry is what the merged image-info says.
    assert.equal(await assertTagsMatch(legsInfo), 11);

    // Nothing left to build: --only-changed gives no leg, and publishing again changes nothing.
    const rest = succeeded(await cli(['matrix', '--format', 'github', '--only-changed', '-i', 'image-info.json'], coordinator), 'matrix --only-changed');
    assert.equal(rest.stdout.trim(), '{"include":[]}');
    assert.match(succeeded(await cli(['publish-manifest', '-i', 'image-info.json'], coordinator), 'publish again').stdout, /\[utils\] unchanged/);

    // A change, built by the legs --only-changed computes: the platforms no leg touched keep their records, marked isUnchanged.
    await newBuilder(coordinator);
    const second = await runLegs(coordinator, ['--only-changed', '-i', 'image-info.json'], newBuilder);
    assert.ok(second.legs.length < first.legs.length, 'only the legs with work');
    const legsAfterChange = (await readImageInfo(join(coordinator, 'image-info.json'))) as ImageInfo;

    // The single build of the same two states, from nothing (a run without image-info looks at no tag), then the change.
    // It keeps an image-info file of its own on the legs' tags: it takes them over (docs/usage.md, build).
    const single = await copyExample(root, 'single');
    succeeded(await cli(['build', '--push', '--take-over-tags', '-i', 'image-info.json'], single), 'single build');
    const singleInfo = (await readImageInfo(join(single, 'image-info.json'))) as ImageInfo;
    assert.equal(await assertTagsMatch(singleInfo), 11);
    await newBuilder(single);
    succeeded(await cli(['build', '--push', '-i', 'image-info.json'], single), 'single build of the change');
    const singleAfterChange = (await readImageInfo(join(single, 'image-info.json'))) as ImageInfo;

    // Same platforms, tags and build keys; internal reads at the same keys.
    const describe = (info: ImageInfo) =>
      records(info)
        .map(({ repo, record }) => ({
          repo,
          dockerfile: record.dockerfile,
          variant: record.variant,
          simpleTags: record.simpleTags,
          buildKey: record.buildKey,
          internalReads: (record.fromImages ?? []).filter((f) => f.internal).map((f) => [f.ref, f.buildKey]),
        }))
        .sort((a, b) => (a.dockerfile < b.dockerfile ? -1 : 1));
    assert.deepEqual(describe(legsInfo), describe(singleInfo));
    assert.equal(records(legsInfo).length, 9);
    const sharedTags = (info: ImageInfo) => info.repos.flatMap((r) => r.images.map((i) => i.manifest?.sharedTags ?? []));
    assert.deepEqual(sharedTags(legsInfo), sharedTags(singleInfo));
    assert.deepEqual(describe(legsAfterChange), describe(singleAfterChange));
    // isUnchanged means the same: false for what the change rebuilt, true for the rest.
    const flags = unchangedFlags(singleAfterChange);
    assert.deepEqual(unchangedFlags(legsAfterChange), flags);
    assert.ok(Object.values(flags).includes(true) && Object.values(flags).includes(false), JSON.stringify(flags));
  });
});
