import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../src/errors.js';
import { mergeImageInfo, removePlatformsNotInManifest, type ImageInfo, type PlatformRecord } from '../../src/imageinfo/index.js';
import type { Manifest } from '../../src/manifest/types.js';

function record(dockerfile: string, digest: string, extra: Partial<PlatformRecord> = {}): PlatformRecord {
  return {
    dockerfile,
    simpleTags: [dockerfile.split('/')[1] ?? 'x'],
    digest: `127.0.0.1:5000/app@sha256:${digest.repeat(64).slice(0, 64)}`,
    osType: 'Linux',
    osVersion: 'bookworm',
    architecture: 'amd64',
    buildKey: `sha256:${digest}`,
    ...extra,
  };
}

function info(...records: PlatformRecord[]): ImageInfo {
  return { schemaVersion: '2.0', repos: [{ repo: 'app', images: records.map((r) => ({ platforms: [r] })) }] };
}

function records(merged: ImageInfo): PlatformRecord[] {
  return merged.repos.flatMap((r) => r.images.flatMap((i) => i.platforms));
}

describe('merge-image-info', () => {
  it('replaces a platform\'s record whole: nothing of the old one survives', () => {
    const old = record('src/sdk/Dockerfile', 'a', {
      fromImages: [{ stage: '0', instruction: 'FROM', ref: 'base:1', digest: 'sha256:old', internal: false }],
      layers: [{ digest: 'sha256:l1', size: 1 }],
      baseImageDigest: 'base@sha256:old',
    });
    const fresh = record('src/sdk/Dockerfile', 'b', { fromImages: [{ stage: '0', instruction: 'FROM', ref: 'base:2', digest: 'sha256:new', internal: false }] });
    const untouched = record('src/docs/Dockerfile', 'c');
    const merged = mergeImageInfo(info(old, untouched), [{ file: 'leg-sdk.json', info: info(fresh) }]);
    const sdk = records(merged).find((r) => r.dockerfile === 'src/sdk/Dockerfile');
    assert.deepEqual(sdk, fresh);
    assert.equal(sdk?.layers, undefined);
    assert.equal(sdk?.baseImageDigest, undefined);
    // No leg wrote it: this run neither built nor tagged it, as a single run marks a platform it reused.
    assert.deepEqual(records(merged).find((r) => r.dockerfile === 'src/docs/Dockerfile'), { ...untouched, isUnchanged: true });
  });

  it('combines the disjoint records of several legs, and identical records twice are no conflict', () => {
    const a = record('src/a/Dockerfile', 'a');
    const b = record('src/b/Dockerfile', 'b');
    const merged = mergeImageInfo(undefined, [
      { file: 'leg1.json', info: info(a) },
      { file: 'leg2.json', info: info(b) },
      { file: 'leg2-again.json', info: info({ ...b }) },
    ]);
    assert.deepEqual(records(merged).map((r) => r.dockerfile).sort(), ['src/a/Dockerfile', 'src/b/Dockerfile']);
  });

  it('refuses two legs that disagree about one platform, naming both files', () => {
    assert.throws(
      () =>
        mergeImageInfo(undefined, [
          { file: 'leg1.json', info: info(record('src/a/Dockerfile', 'a')) },
          { file: 'leg2.json', info: info(record('src/a/Dockerfile', 'b')) },
        ]),
      (err: unknown) =>
        err instanceof InputError &&
        err.file === 'leg2.json' &&
        err.location === 'repos[0].images[0].platforms[0]' &&
        /leg1\.json/.test(err.message) &&
        /digest/.test(err.message),
    );
  });

  it("refuses a leg whose image read another image of an upstream than the merged file records, naming the file, the read and the other leg", () => {
    const upstream = record('src/base/Dockerfile', 'b');
    const read = (digest: string) => ({ stage: '0', instruction: 'FROM' as const, ref: '127.0.0.1:5000/app:base', digest, internal: true, buildKey: upstream.buildKey as string });
    const upstreamDigest = upstream.digest.slice(upstream.digest.indexOf('@') + 1);
    const consistent = record('src/app/Dockerfile', 'c', { fromImages: [read(upstreamDigest)] });
    const legs = (app: PlatformRecord) => [
      { file: 'wave0-base.json', info: info(upstream) },
      { file: 'wave1-app.json', info: info(app) },
    ];
    assert.equal(records(mergeImageInfo(undefined, legs(consistent))).length, 2);
    // Its upstream's leg ran again and built a new image after wave 1 read the first one.
    const stale = record('src/app/Dockerfile', 'c', { fromImages: [read(`sha256:${'9'.repeat(64)}`)] });
    assert.throws(
      () => mergeImageInfo(undefined, legs(stale)),
      (err: unknown) =>
        err instanceof InputError &&
        /^wave1-app\.json: repos\[0\]\.images\[0\]\.platforms\[0\]\.fromImages\[0\]: app src\/app\/Dockerfile .* was built from 127\.0\.0\.1:5000\/app:base at sha256:9{64}, but the merged image-info records that image \(app src\/base\/Dockerfile .*, same build key\) at sha256:b{64}, from wave0-base\.json: /.test(err.message),
    );
    // The same against an upstream the base records (no leg built it).
    assert.throws(() => mergeImageInfo(info(upstream), [{ file: 'wave1-app.json', info: info(stale) }]), /from the base image-info: /);
    // Reads of images outside the file, and reads without a digest (an upstream that was about to build), are not checked.
    const unknown = record('src/app/Dockerfile', 'c', { fromImages: [{ ...read(`sha256:${'9'.repeat(64)}`), buildKey: 'sha256:elsewhere' }, { ...read('') }] });
    assert.equal(records(mergeImageInfo(undefined, legs(unknown))).length, 2);
  });

  it('refuses two legs with different indexes for the same shared tags', () => {
    const leg = (digest: string): ImageInfo => ({
      schemaVersion: '2.0',
      repos: [{ repo: 'app', images: [{ platforms: [record(`src/${digest}/Dockerfile`, digest)], manifest: { digest: `127.0.0.1:5000/app@sha256:${digest}`, sharedTags: ['latest'] } }] }],
    });
    assert.throws(() => mergeImageInfo(undefined, [{ file: 'x.json', info: leg('x') }, { file: 'y.json', info: leg('y') }]), /index of app \[latest\]/);
  });

  it('with --publish, drops the platforms the manifest no longer has', () => {
    const kept = record('src/a/Dockerfile', 'a', { simpleTags: ['a'] });
    const removed = record('src/gone/Dockerfile', 'g', { simpleTags: ['gone'] });
    const manifest: Pick<Manifest, 'repos'> = {
      repos: [
        {
          name: 'app',
          location: { file: 'm', path: 'repos[0]' },
          images: [
            {
              sharedTags: [],
              location: { file: 'm', path: 'repos[0].images[0]' },
              platforms: [
                {
                  id: 'app:a',
                  repo: 'app',
                  imageIndex: 0,
                  platformIndex: 0,
                  dockerfile: 'src/a/Dockerfile',
                  dockerfilePath: '/m/src/a/Dockerfile',
                  contextDir: '/m/src/a',
                  os: 'linux',
                  osVersion: 'bookworm',
                  architecture: 'amd64',
                  buildArgs: {},
                  tags: ['a'],
                  sharedTags: [],
                  location: { file: 'm', path: 'repos[0].images[0].platforms[0]' },
                },
              ],
            },
          ],
        },
      ],
    };
    const merged = removePlatformsNotInManifest(mergeImageInfo(info(kept, removed), []), manifest);
    assert.deepEqual(records(merged), [{ ...kept, isUnchanged: true }]);
  });
  it('merges N legs of many records with work linear in the records (field reads counted, not time)', () => {
    // Every leg record is a proxy that counts the fields read from it; a merge that rebuilds the
    // image-info per record, or compares each record with every earlier claim, reads N² fields.
    const readsFor = (perLeg: number): number => {
      let reads = 0;
      const counted = (r: PlatformRecord): PlatformRecord =>
        new Proxy(r, {
          get: (target, field, receiver) => {
            reads += 1;
            return Reflect.get(target, field, receiver) as unknown;
          },
        });
      const legCount = 4;
      const base = info(...Array.from({ length: legCount * perLeg }, (_, k) => record(`src/p${k}/Dockerfile`, 'a')));
      const legs = Array.from({ length: legCount }, (_, leg) => ({
        file: `leg${leg}.json`,
        info: info(...Array.from({ length: perLeg }, (_, k) => counted(record(`src/p${leg * perLeg + k}/Dockerfile`, 'b')))),
      }));
      const merged = mergeImageInfo(base, legs);
      assert.equal(records(merged).length, legCount * perLeg);
      assert.ok(records(merged).every((r) => r.buildKey === 'sha256:b'));
      return reads;
    };
    const small = readsFor(100);
    const large = readsFor(1000);
    // Ten times the records: about ten times the reads (N² would be a hundred times).
    assert.ok(large / small < 15, `reads grew ${(large / small).toFixed(1)}× for 10× the records (${small} → ${large})`);
  });
});
