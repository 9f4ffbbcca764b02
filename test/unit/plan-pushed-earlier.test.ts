/**
 * A build attempt that pushed and lost its record (a CI leg run again in a fresh checkout, a run
 * stopped before its image-info was kept) is finished by reusing what it pushed, never by building
 * again with new digests (issue 13, item 6). The planner takes an image found at a platform's tag
 * when its labels carry the key this plan computed and it read the very upstream images this plan reads.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { digestOfReference } from '../../src/digest.js';
import { platformRecord } from '../../src/execute/record.js';
import type { ImageInfo, PlatformRecord } from '../../src/imageinfo/types.js';
import { planBuilds, planHasWork, pushCandidates, renderPlanJson, renderPlanText } from '../../src/plan/index.js';
import type { PlanInput, PushedImage } from '../../src/plan/types.js';
import { analysis, building, fromOnly, makeManifest, planOf, reasonKinds, recordOf, REGISTRY, World } from '../helpers/plan-fixtures.js';

const R = REGISTRY;

/** r:base FROM debian; r:app FROM base; r:other FROM debian. */
function world(): World {
  const manifest = makeManifest([
    {
      name: 'r',
      images: [
        { platforms: [{ dockerfile: 'src/base', tags: ['base', 'base-extra'] }] },
        { platforms: [{ dockerfile: 'src/app', tags: ['app'] }] },
        { platforms: [{ dockerfile: 'src/other', tags: ['other'] }] },
      ],
    },
  ]);
  return World.of(manifest, {
    'r:base': fromOnly('debian:12'),
    'r:app': analysis([{ name: 'app', from: `${R}/r:base` }]),
    'r:other': fromOnly('debian:12'),
  });
}

/** What the labels of the images an attempt pushed say, for the platforms `ids`. */
function pushedBy(attempt: ImageInfo, w: World, ids: string[]): Map<string, PushedImage> {
  return new Map(ids.map((id) => [id, { tag: `${R}/${id}`, record: structuredClone(recordOf(attempt, id, w.manifest)) }]));
}

function planWith(w: World, info: ImageInfo, pushed: ReadonlyMap<string, PushedImage>, change: (input: PlanInput) => PlanInput = (i) => i): ReturnType<typeof planBuilds> {
  const input = w.input(info);
  const existing = new Set([...input.existing, ...[...pushed.values()].map((p) => p.record.digest)]);
  return planBuilds(change({ ...input, existing, pushed }));
}

describe('planBuilds: images an earlier attempt of the same build pushed', () => {
  it('reuses them instead of building again, saying why, with their records; the run still has work (their records)', () => {
    const w = world();
    const info = w.baseline();
    w.changeDockerfile('r:base');
    const firstAttempt = w.carryOut(w.plan(info), 2);
    const plan = planWith(w, info, pushedBy(firstAttempt, w, ['r:base', 'r:app']));
    assert.deepEqual(building(plan), []);
    for (const id of ['r:base', 'r:app']) {
      const p = planOf(plan, id);
      const pushedRecord = recordOf(firstAttempt, id, w.manifest);
      assert.equal(p.decision, 'reuse');
      assert.deepEqual(p.reasons, []);
      assert.equal(p.previous?.digest, pushedRecord.digest, `${id} is recorded at the image the first attempt pushed`);
      assert.equal(p.pushedEarlier?.digest, digestOfReference(pushedRecord.digest));
      assert.match(p.pushedEarlier?.detail ?? '', new RegExp(`^${R}/${id} holds sha256:[0-9a-f]{12}, which an earlier attempt of this leg pushed \\(its labels carry this plan and this build key\\); the image-info does not record it$`));
    }
    // What the image-info's record alone would have said is kept.
    assert.deepEqual(planOf(plan, 'r:base').pushedEarlier?.instead.map((r) => r.kind), ['dockerfile-changed']);
    assert.deepEqual(planOf(plan, 'r:app').pushedEarlier?.instead.map((r) => r.kind), ['upstream-rebuilt']);
    // The dependent reads the upstream the first attempt pushed.
    const baseDigest = digestOfReference(recordOf(firstAttempt, 'r:base', w.manifest).digest);
    assert.equal(planOf(plan, 'r:app').fromImages.find((f) => f.internal)?.digest, baseDigest);
    assert.ok(planHasWork(plan), 'their records are still to be written: --exit-code and --only-changed see work');
    assert.equal(planOf(plan, 'r:other').pushedEarlier, undefined);
    const row = renderPlanText(plan).split('\n').find((l) => l.includes('r:base'));
    assert.match(row ?? '', /^reuse\s+r:base\s+src\/base\/Dockerfile\s+pushed earlier: 127\.0\.0\.1:5000\/r:base holds sha256:/);
    const json = JSON.parse(renderPlanJson(plan)) as { platforms: Array<{ id: string; pushedEarlier?: { digest: string } }> };
    assert.equal(json.platforms.find((p) => p.id === 'r:base')?.pushedEarlier?.digest, baseDigest);
    assert.equal(json.platforms.find((p) => p.id === 'r:other')?.pushedEarlier, undefined);
  });

  it('puts on the tags the first attempt did not get to, without a rebuild', () => {
    const w = world();
    const info = w.baseline();
    w.changeDockerfile('r:base');
    const pushed = pushedBy(w.carryOut(w.plan(info), 2), w, ['r:base']);
    (pushed.get('r:base') as PushedImage).record.simpleTags = ['base'];
    const base = planOf(planWith(w, info, pushed), 'r:base');
    assert.equal(base.decision, 'reuse');
    assert.deepEqual(base.newTags, ['base-extra']);
  });

  it('builds what the first attempt did not push, from the upstream it did push', () => {
    const w = world();
    const info = w.baseline();
    w.changeDockerfile('r:base');
    const firstAttempt = w.carryOut(w.plan(info), 2);
    const plan = planWith(w, info, pushedBy(firstAttempt, w, ['r:base']));
    assert.deepEqual(building(plan), ['r:app']);
    assert.deepEqual(reasonKinds(plan, 'r:app'), ['upstream-rebuilt']);
    assert.equal(planOf(plan, 'r:app').fromImages.find((f) => f.internal)?.digest, digestOfReference(recordOf(firstAttempt, 'r:base', w.manifest).digest));
  });

  it('builds over an image of another key (another change, pushed by another attempt)', () => {
    const w = world();
    const info = w.baseline();
    w.changeDockerfile('r:base', 'first change');
    const stale = pushedBy(w.carryOut(w.plan(info), 2), w, ['r:base', 'r:app']);
    w.changeDockerfile('r:base', 'second change');
    const plan = planWith(w, info, stale);
    assert.deepEqual(building(plan), ['r:base', 'r:app']);
    assert.ok(plan.platforms.every((p) => p.pushedEarlier === undefined));
  });

  it('builds a dependent whose pushed image read another upstream image than this plan reads, whatever its key says', () => {
    const w = world();
    const info = w.baseline();
    w.changeDockerfile('r:base');
    const firstAttempt = w.carryOut(w.plan(info), 2);
    // The upstream is rebuilt (its pushed image is not taken): the dependent's image read the old one.
    const onlyApp = pushedBy(firstAttempt, w, ['r:app']);
    assert.deepEqual(building(planWith(w, info, onlyApp)), ['r:base', 'r:app']);
    // The upstream is taken, but the dependent was built from another image of it.
    const both = pushedBy(firstAttempt, w, ['r:base', 'r:app']);
    const appRecord = (both.get('r:app') as PushedImage).record;
    appRecord.fromImages = (appRecord.fromImages ?? []).map((f) => (f.internal ? { ...f, digest: `sha256:${'0'.repeat(64)}` } : f));
    const plan = planWith(w, info, both);
    assert.deepEqual(building(plan), ['r:app']);
    assert.equal(planOf(plan, 'r:base').decision, 'reuse');
  });

  it('--no-cache builds everything, pushed or not', () => {
    const w = world();
    const info = w.baseline();
    w.changeDockerfile('r:base');
    const pushed = pushedBy(w.carryOut(w.plan(info), 2), w, ['r:base', 'r:app']);
    w.noCache = true;
    assert.deepEqual(building(planWith(w, info, pushed)), ['r:base', 'r:app', 'r:other']);
  });

  it('records what it reuses as built by this run: no isUnchanged, the pushed image and its creation time', () => {
    const w = world();
    const info = w.baseline();
    w.changeDockerfile('r:base');
    const pushed = pushedBy(w.carryOut(w.plan(info), 2), w, ['r:base']);
    const pushedRecord: PlatformRecord = { ...(pushed.get('r:base') as PushedImage).record, created: '2026-12-07T10:00:00Z', baseImageDigest: `docker.io/library/debian@sha256:${'1'.repeat(64)}` };
    pushed.set('r:base', { tag: `${R}/r:base`, record: pushedRecord });
    const plan = planWith(w, info, pushed);
    const base = planOf(plan, 'r:base');
    const reused = platformRecord(base, { id: 'r:base', action: 'reused', digest: pushedRecord.digest, tags: ['base', 'base-extra'], fromImages: base.fromImages, durationMs: 0, notes: [] });
    assert.equal(reused.isUnchanged, undefined);
    assert.equal(reused.digest, pushedRecord.digest);
    assert.equal(reused.created, '2026-12-07T10:00:00Z');
    assert.equal(reused.baseImageDigest, pushedRecord.baseImageDigest);
    assert.equal(reused.buildKey, base.buildKey);
    // An ordinary reuse still says isUnchanged.
    const other = planOf(plan, 'r:other');
    assert.equal(platformRecord(other, { id: 'r:other', action: 'reused', digest: other.previous?.digest ?? '', tags: ['other'], fromImages: other.fromImages, durationMs: 0, notes: [] }).isUnchanged, true);
  });
});

describe('isUnchanged, as ImageBuilder sets it (its publish job publishes nothing of an unchanged platform)', () => {
  it('a reused image whose tags differ from the record is not unchanged: its new tags are to be published', () => {
    const w = world();
    const info = w.baseline();
    planOf(w.plan(info), 'r:other').platform.tags.push('other-extra');
    const other = planOf(w.plan(info), 'r:other');
    assert.deepEqual(other.newTags, ['other-extra']);
    const record = platformRecord(other, { id: 'r:other', action: 'retagged', digest: other.previous?.digest ?? '', tags: ['other', 'other-extra'], fromImages: other.fromImages, durationMs: 0, notes: [] });
    assert.equal(record.isUnchanged, undefined);
    assert.deepEqual(record.simpleTags, ['other', 'other-extra']);
  });
});

describe('pushCandidates', () => {
  it("is the first tag of each platform whose record does not match its key, with the recorded image; none under --no-cache", () => {
    const w = world();
    const info = w.baseline();
    w.changeDockerfile('r:base');
    const input = w.input(info);
    assert.deepEqual(pushCandidates(input), [
      { id: 'r:base', tag: `${R}/r:base`, recorded: digestOfReference(recordOf(info, 'r:base', w.manifest).digest) },
      { id: 'r:app', tag: `${R}/r:app`, recorded: digestOfReference(recordOf(info, 'r:app', w.manifest).digest) },
    ]);
    // New platforms have no recorded image.
    assert.deepEqual(pushCandidates(w.input(undefined)).map((c) => [c.id, c.recorded]), [
      ['r:base', undefined],
      ['r:app', undefined],
      ['r:other', undefined],
    ]);
    assert.deepEqual(pushCandidates({ ...input, noCache: true }), []);
  });
});
