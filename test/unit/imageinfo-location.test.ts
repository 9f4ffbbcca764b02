/**
 * image-info names images as ImageBuilder does (`<manifest registry>/<repo name>@sha256:…`, repo names
 * without --repo-prefix); a run reaches them at its own location (--registry-override, --repo-prefix).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ImageInfoStore } from '../../src/execute/store.js';
import type { PlatformOutcome } from '../../src/execute/types.js';
import { imageInfoForFile, imageInfoForRun, readImageInfo, recordedDigestForRun } from '../../src/imageinfo/index.js';
import type { ImageInfo, PlatformRecord } from '../../src/imageinfo/types.js';
import type { Manifest } from '../../src/manifest/types.js';
import type { PlatformPlan } from '../../src/plan/types.js';
import { fromOnly, makeManifest, sha, World } from '../helpers/plan-fixtures.js';

const A = sha('a');
const B = sha('b');
const INDEX = sha('index');
const BASE = sha('base');
const REPO = 'dotnet-buildtools/prereqs';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

function staged(registry: string, location: Manifest['location']): Manifest {
  return makeManifest([{ name: REPO, images: [{ sharedTags: ['latest'], platforms: [{ dockerfile: 'src/a', tags: ['a'] }, { dockerfile: 'src/b', tags: ['b'] }] }] }], registry, location);
}

function info(repo: string, digests: { a: string; b: string; index?: string; base?: string }): ImageInfo {
  const record = (dockerfile: string, tag: string, digest: string): PlatformRecord => ({
    dockerfile,
    simpleTags: [tag],
    digest,
    osType: 'Linux',
    osVersion: '',
    architecture: 'amd64',
    commitUrl: '',
    ...(digests.base && tag === 'a' ? { baseImageDigest: digests.base } : {}),
  });
  return {
    schemaVersion: '2.0',
    repos: [
      {
        repo,
        images: [
          {
            platforms: [record('src/a/Dockerfile', 'a', digests.a), record('src/b/Dockerfile', 'b', digests.b)],
            ...(digests.index ? { manifest: { digest: digests.index, sharedTags: ['latest'] } } : {}),
          },
        ],
      },
    ],
  };
}

describe('image-info digests: ImageBuilder\'s form in the file, this run\'s location in between', () => {
  const manifest = staged('mcr.microsoft.com', { registry: '127.0.0.1:5000', repoPrefix: 'stage-7/' });
  const atRun = `127.0.0.1:5000/stage-7/${REPO}`;
  const published = `mcr.microsoft.com/${REPO}`;

  it('writes platform, index and internal base digests as <manifest registry>/<repo name>@…, without override or prefix', () => {
    const written = imageInfoForFile(
      info(`stage-7/${REPO}`, { a: `${atRun}@${A}`, b: `${atRun}@${B}`, index: `${atRun}@${INDEX}`, base: `${atRun}@${BASE}` }),
      manifest,
    );
    assert.deepEqual(written, info(REPO, { a: `${published}@${A}`, b: `${published}@${B}`, index: `${published}@${INDEX}`, base: `${published}@${BASE}` }));
  });

  it('reads ImageBuilder\'s form at this run\'s location, and a digest naming another location as it is', () => {
    const oldStaging = `127.0.0.1:5000/stage-6/${REPO}@${B}`;
    const read = imageInfoForRun(info(REPO, { a: `${published}@${A}`, b: oldStaging, index: `${published}@${INDEX}` }), manifest);
    assert.deepEqual(read, info(REPO, { a: `${atRun}@${A}`, b: oldStaging, index: `${atRun}@${INDEX}` }));
    assert.equal(recordedDigestForRun(`${published}@${A}`, manifest), `${atRun}@${A}`);
  });

  it('changes nothing without an override or a prefix (the two forms are one)', () => {
    const plain = staged('mcr.microsoft.com', { registry: 'mcr.microsoft.com', repoPrefix: '' });
    const file = info(REPO, { a: `${published}@${A}`, b: `${published}@${B}` });
    assert.equal(imageInfoForRun(file, plain), file);
    assert.equal(imageInfoForFile(file, plain), file);
  });

  it('a manifest without a registry: ImageBuilder writes <repo name>@…, reached at the override', () => {
    const bare = staged('', { registry: '127.0.0.1:5000', repoPrefix: 'stage-7/' });
    const file = info(REPO, { a: `${REPO}@${A}`, b: `${REPO}@${B}` });
    const read = imageInfoForRun(file, bare);
    assert.deepEqual(read, info(REPO, { a: `${atRun}@${A}`, b: `${atRun}@${B}` }));
    assert.deepEqual(imageInfoForFile(read, bare), file);
  });

  it('a build run\'s store writes ImageBuilder\'s form and hands the recorded index back at the run\'s location', async () => {
    const world = World.of(manifest, { [`${REPO}:a`]: fromOnly('debian'), [`${REPO}:b`]: fromOnly('debian') });
    const [a] = world.plan(undefined).platforms as [PlatformPlan];
    const dir = await mkdtemp(join(tmpdir(), 'iw-location-'));
    dirs.push(dir);
    const file = join(dir, 'image-info.json');
    const store = await ImageInfoStore.open(file, manifest);
    const outcome: PlatformOutcome = { id: a.id, action: 'built', digest: `${atRun}@${A}`, tags: a.tags, fromImages: a.fromImages, durationMs: 1, notes: [] };
    await store.recordPlatform(a, outcome);
    await store.recordIndex({ repo: REPO, imageIndex: 0 }, { digest: `${atRun}@${INDEX}`, sharedTags: ['latest'] });
    await store.flush();
    const text = await readFile(file, 'utf8');
    assert.match(text, new RegExp(`"digest": "${published}@${A}"`));
    assert.match(text, new RegExp(`"digest": "${published}@${INDEX}"`));
    assert.doesNotMatch(text, /stage-7/);
    assert.equal(store.indexRecord({ repo: REPO, imageIndex: 0 })?.digest, `${atRun}@${INDEX}`);
    const reread = await readImageInfo(file);
    assert.ok(reread);
    assert.equal(imageInfoForRun(reread, manifest).repos[0]?.images[0]?.platforms[0]?.digest, `${atRun}@${A}`);
  });
});
