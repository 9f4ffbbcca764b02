/**
 * Shared-tag indexes in the plan: which must be created or moved, and why, and that the plan's
 * consumers (text, JSON, github, --exit-code's rule) see them even when no platform builds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { digestOfReference } from '../../src/digest.js';
import { planGithubOutputs, renderPlanGithub } from '../../src/plan/github.js';
import { planBuilds, planCounts, planHasWork, recordedIndexes, renderPlanJson, renderPlanText } from '../../src/plan/index.js';
import type { IndexPlan, Plan } from '../../src/plan/types.js';
import { makeManifest, recordOf, sha, World, fromOnly } from '../helpers/plan-fixtures.js';

/** r:tool has its own tag; r:1.0 is one image on amd64 and arm64 under shared tags 1.0 and 1. */
function world(): World {
  const manifest = makeManifest([
    {
      name: 'r',
      images: [
        { platforms: [{ dockerfile: 'src/tool', tags: ['tool'] }] },
        {
          sharedTags: ['1.0', '1'],
          platforms: [
            { dockerfile: 'src/app', tags: ['1.0-amd64'] },
            { dockerfile: 'src/app', tags: ['1.0-arm64'], architecture: 'arm64' },
          ],
        },
      ],
    },
  ]);
  return World.of(manifest, { 'r:tool': fromOnly('debian:12'), 'r:1.0-amd64': fromOnly('debian:12'), 'r:1.0-arm64': fromOnly('debian:12') });
}

function onlyIndex(plan: Plan): IndexPlan {
  assert.equal(plan.indexes.length, 1, 'one image has shared tags');
  return plan.indexes[0] as IndexPlan;
}

describe('plan: shared-tag indexes', () => {
  it('a first build creates the index: its shared tags are new', () => {
    const index = onlyIndex(world().plan(undefined));
    assert.deepEqual(
      { action: index.action, reasons: index.reasons, platforms: index.platforms, sharedTags: index.sharedTags },
      { action: 'create', reasons: [{ kind: 'new-index', detail: 'shared tags 1.0, 1 are new' }], platforms: ['r:1.0-amd64', 'r:1.0-arm64'], sharedTags: ['1.0', '1'] },
    );
  });

  it('nothing changed: the index is unchanged and the plan has no work', () => {
    const w = world();
    const plan = w.plan(w.baseline());
    assert.equal(onlyIndex(plan).action, 'unchanged');
    assert.deepEqual(onlyIndex(plan).reasons, []);
    assert.equal(planHasWork(plan), false);
    assert.deepEqual(planCounts(plan), { build: 0, reuse: 3, publish: 0 });
  });

  it('a shared tag added, nothing to build: a move action naming the new tag, and work for --exit-code', () => {
    const w = world();
    const info = w.baseline();
    w.manifest.repos[0]?.images[1]?.sharedTags.push('latest');
    const plan = w.plan(info);
    assert.deepEqual(new Set(plan.platforms.map((p) => p.decision)), new Set(['reuse']));
    const index = onlyIndex(plan);
    assert.equal(index.action, 'move');
    assert.deepEqual(index.reasons, [{ kind: 'tags-changed', detail: 'shared tags changed: new tag latest', added: ['latest'], removed: [] }]);
    assert.equal(planHasWork(plan), true);
    assert.match(renderPlanText(plan), /^move\s+r:1\.0,1,latest {2}shared tags changed: new tag latest$/m);
    assert.match(renderPlanText(plan), /^0 to build, 3 to reuse, 1 shared-tag index to publish$/m);
    const json = JSON.parse(renderPlanJson(plan)) as { indexes: IndexPlan[] };
    assert.deepEqual(json.indexes, [index]);
    assert.match(renderPlanGithub(plan), /^## imagewright plan: 1 shared-tag index to publish$/m);
    assert.match(renderPlanGithub(plan), /^\| move \| `r:1\.0,1,latest` \| shared tags changed: new tag latest \|$/m);
    assert.equal(planGithubOutputs(plan), 'stale=true\nbuild-count=0\npublish-count=1\n');
  });

  it('a shared tag dropped moves the index too', () => {
    const w = world();
    const info = w.baseline();
    const image = w.manifest.repos[0]?.images[1];
    assert.ok(image);
    image.sharedTags = ['1.0'];
    for (const p of image.platforms) p.sharedTags = ['1.0'];
    const index = onlyIndex(w.plan(info));
    assert.equal(index.action, 'move');
    assert.deepEqual(index.reasons.map((r) => r.kind), ['tags-changed']);
    assert.match(index.reasons[0]?.detail ?? '', /dropped 1$/);
  });

  it('a shared tag moved by hand or deleted (the recorded index still there): a move that puts it back, naming the tag', () => {
    const w = world();
    const info = w.baseline();
    const recorded = digestOfReference(info.repos[0]?.images.find((i) => i.manifest)?.manifest?.digest ?? '');
    assert.ok(recorded);
    // The first recorded shared tag the image still has is the one checked: `1.0`.
    assert.deepEqual(recordedIndexes(w.manifest, info).map((c) => c.tag), ['127.0.0.1:5000/r:1.0']);
    const planWith = (found: string) => {
      const input = w.input(info);
      return planBuilds({ ...input, tags: new Map([...(input.tags ?? []), ['127.0.0.1:5000/r:1.0', found]]) });
    };
    const other = sha('an image pushed by hand');
    const moved = onlyIndex(planWith(other));
    assert.equal(moved.action, 'move');
    assert.deepEqual(moved.reasons, [
      { kind: 'index-tag-moved', detail: `shared tag 1.0 names ${other.slice(0, 19)}, not the recorded index ${recorded.slice(0, 19)}`, tag: '1.0', recorded, found: other },
    ]);
    assert.equal(planHasWork(planWith(other)), true);
    assert.match(onlyIndex(planWith('')).reasons[0]?.detail ?? '', /^shared tag 1\.0 is not in the registry; the recorded index sha256:[0-9a-f]{12} is$/);
    assert.equal(onlyIndex(planWith(recorded)).action, 'unchanged');
  });

  it('a platform that rebuilds moves its index, naming the platform', () => {
    const w = world();
    const info = w.baseline();
    w.changeDockerfile('r:1.0-arm64');
    const index = onlyIndex(w.plan(info));
    assert.equal(index.action, 'move');
    assert.deepEqual(index.reasons, [{ kind: 'platform-rebuilt', detail: 'r:1.0-arm64 rebuilds: its digest changes', platform: 'r:1.0-arm64' }]);
  });

  it('a platform pushed by a leg whose index never moved: the recorded digest against the one the index lists', () => {
    const w = world();
    const info = w.baseline();
    const record = recordOf(info, 'r:1.0-arm64', w.manifest);
    const listed = digestOfReference(record.digest);
    record.digest = `127.0.0.1:5000/r@${sha('pushed by a later leg')}`;
    const plan = w.plan(info);
    assert.deepEqual(new Set(plan.platforms.map((p) => p.decision)), new Set(['reuse']), 'the platform itself is up to date');
    const index = onlyIndex(plan);
    assert.equal(index.action, 'move');
    assert.deepEqual(index.reasons, [
      {
        kind: 'platform-digest-changed',
        detail: `r:1.0-arm64 is ${sha('pushed by a later leg').slice(0, 19)}; the index lists ${listed.slice(0, 19)}`,
        platform: 'r:1.0-arm64',
        old: listed,
        new: sha('pushed by a later leg'),
      },
    ]);
    assert.equal(planHasWork(plan), true);
  });

  it('a recorded index the registry no longer has, and one never published, are published again', () => {
    const w = world();
    const info = w.baseline();
    const recorded = info.repos[0]?.images[1]?.manifest;
    assert.ok(recorded);
    w.publishedIndexes.set(recorded.digest, null);
    assert.deepEqual(onlyIndex(w.plan(info)).reasons.map((r) => r.kind), ['index-missing']);
    recorded.digest = '';
    const index = onlyIndex(w.plan(info));
    assert.deepEqual([index.action, index.reasons.map((r) => r.kind)], ['create', ['never-published']]);
  });

  it('an index listing a platform the image no longer has is moved', () => {
    const w = world();
    const info = w.baseline();
    const image = w.manifest.repos[0]?.images[1];
    assert.ok(image);
    image.platforms = image.platforms.slice(0, 1);
    const index = onlyIndex(w.plan(info));
    assert.equal(index.action, 'move');
    assert.deepEqual(index.reasons.map((r) => [r.kind, 'platform' in r ? r.platform : '']), [['platform-removed', 'linux/arm64']]);
  });
});
