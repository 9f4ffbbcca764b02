import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ImageInfo } from '../../src/imageinfo/types.js';
import { digestOfReference } from '../../src/digest.js';
import { BUILD_KEY_VERSION, certainBuilds, computeKeys, planBuilds, planHasWork, renderPlanJson, renderPlanText, reuseCandidates } from '../../src/plan/index.js';
import type { Plan, PlanInput, Reason } from '../../src/plan/types.js';
import {
  analysis,
  asImageBuilderRecords,
  building,
  fromOnly,
  makeManifest,
  planOf,
  reasonKinds,
  recordOf,
  REGISTRY,
  sha,
  World,
} from '../helpers/plan-fixtures.js';

const R = REGISTRY;
const DEBIAN = 'docker.io/library/debian:12';
const GOLANG = 'docker.io/library/golang:1.22';
const TOOLS = 'docker.io/library/tools:1';
const SYNTAX = 'docker.io/docker/dockerfile:1';

/**
 * r:base FROM debian; r:app FROM base, COPY --from golang, RUN --mount from tools, with a syntax line;
 * r:arm (arm64) FROM debian; r:args FROM the image its BASE build arg names.
 */
function world(): World {
  const manifest = makeManifest([
    {
      name: 'r',
      images: [
        { platforms: [{ dockerfile: 'src/base', tags: ['base'] }] },
        { platforms: [{ dockerfile: 'src/app', tags: ['app'] }] },
        { sharedTags: ['arm'], platforms: [{ dockerfile: 'src/arm', tags: ['arm-arm64v8'], architecture: 'arm64', variant: 'v8' }] },
        { platforms: [{ dockerfile: 'src/args', tags: ['args'], buildArgs: { BASE: 'debian:12', TOKEN: 's3cret-value' } }] },
      ],
    },
  ]);
  return World.of(manifest, {
    'r:base': fromOnly('debian:12'),
    'r:app': analysis([{ name: 'build', from: `${R}/r:base`, copyFrom: ['golang:1.22'], mountFrom: ['tools:1'] }], 'docker/dockerfile:1'),
    'r:arm-arm64v8': fromOnly('debian:12'),
    'r:args': fromOnly('debian:12'),
  });
}

function reasonOf<K extends Reason['kind']>(plan: Plan, id: string, kind: K): Extract<Reason, { kind: K }> {
  const reason = planOf(plan, id).reasons.find((r): r is Extract<Reason, { kind: K }> => r.kind === kind);
  assert.ok(reason, `${id} has no ${kind} reason; it has ${reasonKinds(plan, id).join(', ') || 'none'}`);
  return reason;
}

describe('planBuilds: first builds', () => {
  it('builds everything as new when there is no previous image-info', () => {
    const plan = world().plan(undefined);
    assert.deepEqual(
      plan.platforms.map((p) => [p.id, p.decision, p.reasons]),
      ['r:base', 'r:app', 'r:arm-arm64v8', 'r:args'].map((id) => [id, 'build', [{ kind: 'new', detail: 'no previous image-info' }]]),
    );
  });

  it('builds a platform the previous image-info does not know as new, and reuses the rest', () => {
    const w = world();
    const info = w.baseline();
    const r = info.repos[0];
    assert.ok(r);
    r.images.splice(2, 1);
    const plan = w.plan(info);
    assert.deepEqual(building(plan), ['r:arm-arm64v8']);
    assert.deepEqual(planOf(plan, 'r:arm-arm64v8').reasons, [{ kind: 'new', detail: 'not in the previous image-info' }]);
  });

  it('matches records by dockerfile, os, osVersion and architecture, not by position', () => {
    const w = world();
    const info = w.baseline();
    const images = info.repos[0]?.images ?? [];
    images.reverse();
    assert.deepEqual(building(w.plan(info)), []);
    const record = recordOf(w.baseline(), 'r:base', w.manifest);
    for (const [field, value] of [
      ['dockerfile', 'src/other/Dockerfile'],
      ['osType', 'Windows'],
      ['osVersion', 'trixie'],
      ['architecture', 'arm64'],
      ['variant', 'v8'],
    ] as const) {
      const changed: ImageInfo = { schemaVersion: '2.0', repos: [{ repo: 'r', images: [{ platforms: [{ ...record, [field]: value }] }] }] };
      assert.deepEqual(reasonKinds(w.plan(changed), 'r:base'), ['new'], `a record with another ${field} is not this platform's`);
    }
    const otherRepo: ImageInfo = { schemaVersion: '2.0', repos: [{ repo: 'q', images: [{ platforms: [record] }] }] };
    assert.deepEqual(reasonKinds(w.plan(otherRepo), 'r:base'), ['new']);
  });
});

describe('planBuilds: nothing changed', () => {
  it('reuses every platform, with no reasons and no new tags', () => {
    const w = world();
    const plan = w.plan(w.baseline());
    assert.deepEqual(plan.platforms.map((p) => [p.id, p.decision, p.reasons, p.newTags]), [
      ['r:base', 'reuse', [], []],
      ['r:app', 'reuse', [], []],
      ['r:arm-arm64v8', 'reuse', [], []],
      ['r:args', 'reuse', [], []],
    ]);
  });

  it('reuses after a plan was carried out: building converges', () => {
    const w = world();
    const info = w.baseline();
    w.changeDockerfile('r:base');
    w.bumpExternal(GOLANG);
    const after = w.carryOut(w.plan(info), 2);
    assert.deepEqual(building(w.plan(after)), []);
  });

  it('lists tags the record lacks as new tags, without rebuilding', () => {
    const w = world();
    const info = w.baseline();
    planOf(w.plan(info), 'r:base').platform.tags.push('base-extra');
    const plan = w.plan(info);
    assert.equal(planOf(plan, 'r:base').decision, 'reuse');
    assert.deepEqual(planOf(plan, 'r:base').newTags, ['base-extra']);
    assert.deepEqual(planOf(plan, 'r:app').newTags, []);
  });

  it('lists no new tags for a platform that builds: all its tags are pushed anyway', () => {
    const w = world();
    const info = w.baseline();
    planOf(w.plan(info), 'r:base').platform.tags.push('base-extra');
    w.changeDockerfile('r:base');
    assert.deepEqual(planOf(w.plan(info), 'r:base').newTags, []);
  });
});

describe('planBuilds: inputs of the platform itself', () => {
  it('dockerfile-changed names the Dockerfile and both digests', () => {
    const w = world();
    const info = w.baseline();
    const old = w.dockerfileDigests.get('r:args') ?? '';
    w.changeDockerfile('r:args');
    const now = w.dockerfileDigests.get('r:args') ?? '';
    const plan = w.plan(info);
    assert.deepEqual(building(plan), ['r:args']);
    assert.deepEqual(planOf(plan, 'r:args').reasons, [
      { kind: 'dockerfile-changed', detail: `src/args/Dockerfile changed (${old.slice(0, 19)} → ${now.slice(0, 19)})`, old, new: now },
    ]);
  });

  it('context-changed lists added, removed and modified files', () => {
    const w = world();
    w.setContextFile('r:args', 'keep.txt', sha('keep'));
    w.setContextFile('r:args', 'gone.txt', sha('gone'));
    const info = w.baseline();
    const oldContext = recordOf(info, 'r:args', w.manifest).inputs?.context;
    w.setContextFile('r:args', 'app.sh', `${sha('app')}+x`);
    w.setContextFile('r:args', 'gone.txt', undefined);
    w.setContextFile('r:args', 'new/b.txt', sha('b'));
    w.setContextFile('r:args', 'new/a.txt', sha('a'));
    const plan = w.plan(info);
    assert.deepEqual(building(plan), ['r:args']);
    assert.match(oldContext ?? '', /^sha256:/);
    assert.deepEqual(planOf(plan, 'r:args').reasons, [
      {
        kind: 'context-changed',
        detail: 'build context changed: added new/a.txt, new/b.txt; removed gone.txt; modified app.sh',
        old: oldContext,
        new: planOf(plan, 'r:args').inputs.context,
        added: ['new/a.txt', 'new/b.txt'],
        removed: ['gone.txt'],
        modified: ['app.sh'],
      },
    ]);
  });

  it('context-changed shortens long file lists in the sentence but keeps them whole in the fields', () => {
    const w = world();
    const info = w.baseline();
    for (const f of ['a', 'b', 'c', 'd', 'e']) w.setContextFile('r:base', f, sha(f));
    const reason = reasonOf(w.plan(info), 'r:base', 'context-changed');
    assert.equal(reason.detail, 'build context changed: added a, b, c and 2 more');
    assert.deepEqual(reason.added, ['a', 'b', 'c', 'd', 'e']);
  });

  it('context-changed says when the whole context is keyed, and why', () => {
    const w = world();
    const why = 'line 3: COPY ${SRC}: $SRC may be set by the base image, so the source is known only when the build runs';
    w.wholeContexts.set('r:base', why);
    const info = w.baseline();
    w.setContextFile('r:base', 'other/readme.md', sha('readme'));
    const reason = reasonOf(w.plan(info), 'r:base', 'context-changed');
    assert.equal(reason.detail, `build context changed: added other/readme.md (the whole context is keyed: ${why})`);
    assert.deepEqual(reason.added, ['other/readme.md']);
  });

  it('build-args-changed names the args, their values only as digests', () => {
    const w = world();
    const info = w.baseline();
    w.setBuildArg('r:args', 'TOKEN', 'an0ther-s3cret');
    w.setBuildArg('r:args', 'EXTRA', '');
    const plan = w.plan(info);
    const reason = reasonOf(plan, 'r:args', 'build-args-changed');
    assert.deepEqual(reason, {
      kind: 'build-args-changed',
      detail: 'build args changed: EXTRA, TOKEN',
      args: ['EXTRA', 'TOKEN'],
      changes: [
        { name: 'EXTRA', old: null, new: sha('') },
        { name: 'TOKEN', old: sha('s3cret-value'), new: sha('an0ther-s3cret') },
      ],
    });
    assert.doesNotMatch(renderPlanText(plan) + renderPlanJson(plan), /s3cret/);
  });

  it('an ARG-substituted FROM changed through build args reads a new image: both reasons', () => {
    const w = world();
    const info = w.baseline();
    w.setBuildArg('r:args', 'BASE', 'debian:13');
    w.analyses.set('r:args', fromOnly('debian:13')); // what the analyzer makes of FROM $BASE now
    const plan = w.plan(info);
    const newDigest = w.externalDigest('docker.io/library/debian:13', 'linux/amd64');
    assert.deepEqual(planOf(plan, 'r:args').reasons, [
      { kind: 'build-args-changed', detail: 'build args changed: BASE', args: ['BASE'], changes: [{ name: 'BASE', old: sha('debian:12'), new: sha('debian:13') }] },
      {
        kind: 'from-image-changed',
        detail: `FROM docker.io/library/debian:13 in stage 0 newly read (${newDigest.slice(0, 19)})`,
        stage: '0',
        instruction: 'FROM',
        ref: 'docker.io/library/debian:13',
        oldDigest: '',
        newDigest,
      },
    ]);
  });

  it('platform-changed when the recorded platform differs', () => {
    const w = world();
    const info = w.baseline();
    const record = recordOf(info, 'r:base', w.manifest);
    assert.ok(record.inputs);
    record.inputs.platform = 'linux/amd64/v3';
    record.buildKey = sha('a key computed for linux/amd64/v3');
    assert.deepEqual(reasonOf(w.plan(info), 'r:base', 'platform-changed'), {
      kind: 'platform-changed',
      detail: 'platform changed: linux/amd64/v3 → linux/amd64',
      old: 'linux/amd64/v3',
      new: 'linux/amd64',
    });
  });
});

describe('planBuilds: images read', () => {
  for (const [what, ref, instruction, stage, words] of [
    ['FROM', DEBIAN, 'FROM', '0', 'FROM'],
    ['COPY --from', GOLANG, 'COPY', 'build', 'COPY --from'],
    ['RUN --mount from', TOOLS, 'MOUNT', 'build', 'RUN --mount from'],
    ['the syntax frontend', SYNTAX, 'SYNTAX', '', 'syntax frontend'],
  ] as const) {
    it(`from-image-changed when the image read through ${what} has a new digest`, () => {
      const w = world();
      const info = w.baseline();
      const oldDigest = w.externalDigest(ref, 'linux/amd64');
      w.bumpExternal(ref);
      const newDigest = w.externalDigest(ref, 'linux/amd64');
      const plan = w.plan(info);
      const id = ref === DEBIAN ? 'r:base' : 'r:app';
      const reason = reasonOf(plan, id, 'from-image-changed');
      assert.deepEqual(reason, {
        kind: 'from-image-changed',
        detail: `${words} ${ref} in stage ${stage || '(syntax)'} changed (${oldDigest.slice(0, 19)} → ${newDigest.slice(0, 19)})`,
        stage,
        instruction,
        ref,
        oldDigest,
        newDigest,
      });
    });
  }

  it('an external image rebuilds exactly its readers, for the platforms whose digest changed', () => {
    const w = world();
    const info = w.baseline();
    w.bumpExternal(GOLANG);
    assert.deepEqual(building(w.plan(info)), ['r:app']);
  });

  it('resolves per platform: a new arm64 digest of a shared reference rebuilds only the arm64 reader', () => {
    const w = world();
    const info = w.baseline();
    w.pinned.set(`${DEBIAN} linux/arm64`, sha('debian 12 arm64 rebuilt'));
    const plan = w.plan(info);
    assert.deepEqual(building(plan), ['r:arm-arm64v8']);
    assert.equal(reasonOf(plan, 'r:arm-arm64v8', 'from-image-changed').newDigest, sha('debian 12 arm64 rebuilt'));
    assert.notEqual(planOf(plan, 'r:base').fromImages[0]?.digest, planOf(plan, 'r:arm-arm64v8').fromImages[0]?.digest);
  });

  it('records external reads by normalized reference and per-platform digest, internal reads by build key', () => {
    const w = world();
    const plan = w.plan(undefined);
    const app = planOf(plan, 'r:app');
    assert.deepEqual(app.fromImages, [
      { stage: '', instruction: 'SYNTAX', ref: SYNTAX, digest: w.externalDigest(SYNTAX, 'linux/amd64'), internal: false },
      { stage: 'build', instruction: 'FROM', ref: `${R}/r:base`, digest: '', internal: true, buildKey: planOf(plan, 'r:base').buildKey },
      { stage: 'build', instruction: 'COPY', ref: GOLANG, digest: w.externalDigest(GOLANG, 'linux/amd64'), internal: false },
      { stage: 'build', instruction: 'MOUNT', ref: TOOLS, digest: w.externalDigest(TOOLS, 'linux/amd64'), internal: false },
    ]);
  });

  it('records the digest of a reused upstream, and none for one that is about to build', () => {
    const w = world();
    const info = w.baseline();
    const baseDigest = recordOf(info, 'r:base', w.manifest).digest;
    w.bumpExternal(GOLANG);
    const reused = planOf(w.plan(info), 'r:app').fromImages[1];
    assert.equal(reused?.digest, baseDigest.slice(baseDigest.indexOf('@') + 1));
    assert.match(reused?.digest ?? '', /^sha256:[0-9a-f]{64}$/);
    w.changeDockerfile('r:base');
    assert.equal(planOf(w.plan(info), 'r:app').fromImages[1]?.digest, '');
  });
});

describe('planBuilds: upstreams', () => {
  it('upstream-rebuilt names the upstream and the path from it', () => {
    const w = world();
    const info = w.baseline();
    w.changeDockerfile('r:base');
    const plan = w.plan(info);
    assert.deepEqual(building(plan), ['r:base', 'r:app']);
    assert.deepEqual(planOf(plan, 'r:app').reasons, [
      {
        kind: 'upstream-rebuilt',
        detail: 'upstream r:base is rebuilt',
        upstream: 'r:base',
        path: ['r:base', 'r:app'],
        old: recordOf(info, 'r:base', w.manifest).buildKey,
        new: planOf(plan, 'r:base').buildKey,
      },
    ]);
  });

  it('names an upstream once, however many stages read it', () => {
    const w = world();
    w.analyses.set('r:args', analysis([{ name: 'tools', from: `${R}/r:base` }, { from: 'debian:12', copyFrom: [`${R}/r:base`], mountFrom: [`${R}/r:base`] }]));
    const info = w.baseline();
    w.changeDockerfile('r:base');
    assert.deepEqual(reasonKinds(w.plan(info), 'r:args'), ['upstream-rebuilt']);
  });

  it('an upstream whose key moved since the dependent was built is named even when it is reused itself', () => {
    const w = world();
    const info = w.baseline();
    const app = recordOf(info, 'r:app', w.manifest);
    const read = app.fromImages?.[1];
    assert.ok(read);
    read.buildKey = sha('the key base had back then');
    app.buildKey = sha('the key app had back then');
    const plan = w.plan(info);
    assert.deepEqual(building(plan), ['r:app']);
    assert.deepEqual(reasonOf(plan, 'r:app', 'upstream-rebuilt').path, ['r:base', 'r:app']);
  });
});

describe('planBuilds: same key', () => {
  it('image-missing when the recorded image is gone; dependents stay reused', () => {
    const w = world();
    const info = w.baseline();
    const gone = recordOf(info, 'r:base', w.manifest).digest;
    const plan = w.plan(info, [gone]);
    assert.deepEqual(building(plan), ['r:base']);
    assert.deepEqual(planOf(plan, 'r:base').reasons, [
      { kind: 'image-missing', detail: `recorded image ${gone} is not in the registry`, digest: gone },
    ]);
    assert.equal(planOf(plan, 'r:app').decision, 'reuse');
  });

  it('image-missing when the record has no digest', () => {
    const w = world();
    const info = w.baseline();
    recordOf(info, 'r:args', w.manifest).digest = '';
    assert.deepEqual(planOf(w.plan(info), 'r:args').reasons, [
      { kind: 'image-missing', detail: 'the record has no image digest (never pushed)', digest: '' },
    ]);
  });

  it('asks the registry only about the images it could reuse', () => {
    const w = world();
    const info = w.baseline();
    w.changeDockerfile('r:base');
    const input = w.input(info);
    // Each with the tag that should name it: one HEAD answers whether the image exists and whether the tag moved.
    const check = (id: string) => ({ digest: recordOf(info, id, w.manifest).digest, tag: `${w.manifest.registry}/${id}` });
    assert.deepEqual(reuseCandidates(input), [check('r:arm-arm64v8'), check('r:args')]);
    assert.deepEqual(reuseCandidates({ ...input, noCache: true }), []);
    assert.deepEqual(reuseCandidates({ ...input, previous: asImageBuilderRecords(info) }), []);
  });

  it('knows from the keys alone which platforms build whatever the registry answers (build readies the engine then)', () => {
    const w = world();
    const info = w.baseline();
    w.changeDockerfile('r:base');
    const input = w.input(info);
    const certain = certainBuilds(input, computeKeys(input)).map((p) => p.id);
    assert.deepEqual(certain, ['r:base', 'r:app']);
    // Every recorded image there: exactly those build. One gone: it builds as well, the certain ones still do.
    assert.deepEqual(building(w.plan(info)), certain);
    const gone = recordOf(info, 'r:args', w.manifest).digest;
    assert.deepEqual(building(w.plan(info, [gone])), [...certain, 'r:args']);
    assert.deepEqual(certainBuilds({ noCache: true }, computeKeys(input)).length, 4);
    assert.deepEqual(certainBuilds(w.input(undefined), computeKeys(w.input(undefined))).length, 4);
  });
});

describe('planBuilds: tags that moved', () => {
  it('a tag naming another image than the record is put back without a rebuild, and said so in text, JSON and --exit-code', () => {
    const w = world();
    const info = w.baseline();
    const recorded = digestOfReference(recordOf(info, 'r:args', w.manifest).digest);
    const other = sha('pushed by hand');
    w.movedTags.set(`${R}/r:args`, other);
    const plan = w.plan(info);
    const args = planOf(plan, 'r:args');
    assert.equal(args.decision, 'reuse');
    assert.deepEqual(args.reasons, []);
    const detail = `tag args names ${other.slice(0, 19)}, not the recorded image ${recorded.slice(0, 19)}`;
    assert.deepEqual(args.movedTags, [{ tag: 'args', recorded, found: other, detail }]);
    assert.deepEqual(building(plan), []);
    assert.ok(planHasWork(plan), '--exit-code reports the re-tag as work');
    const row = renderPlanText(plan).split('\n').find((l) => l.includes('r:args'));
    assert.match(row ?? '', new RegExp(`^reuse\\s+r:args\\s+src/args/Dockerfile\\s+unchanged; re-tags: ${detail}$`));
    const json = JSON.parse(renderPlanJson(plan)) as { platforms: Array<{ id: string; movedTags: unknown }> };
    assert.deepEqual(json.platforms.find((p) => p.id === 'r:args')?.movedTags, [{ tag: 'args', recorded, found: other, detail }]);
    // The others' tags name their images: nothing else to do.
    assert.deepEqual(plan.platforms.filter((p) => p.movedTags.length > 0).map((p) => p.id), ['r:args']);
  });

  it('a deleted tag is put back too; a rebuilt platform has no moved tags', () => {
    const w = world();
    const info = w.baseline();
    w.movedTags.set(`${R}/r:base`, '');
    assert.match(planOf(w.plan(info), 'r:base').movedTags[0]?.detail ?? '', /^tag base is not in the registry; the recorded image sha256:[0-9a-f]{12} is$/);
    w.changeDockerfile('r:base');
    assert.deepEqual(planOf(w.plan(info), 'r:base').movedTags, []);
  });

  it('no moved tags when every checked tag names its recorded image', () => {
    const w = world();
    const plan = w.plan(w.baseline());
    assert.ok(plan.platforms.every((p) => p.movedTags.length === 0));
    assert.equal(planHasWork(plan), false);
  });
});

describe('planBuilds: --no-cache', () => {
  it('builds everything, giving no-cache after the reasons that apply, and never image-missing', () => {
    const w = world();
    const info = w.baseline();
    w.changeDockerfile('r:args');
    w.noCache = true;
    const input = w.input(info);
    assert.equal(input.existing.size, 0);
    const plan = planBuilds(input);
    assert.deepEqual(
      plan.platforms.map((p) => [p.id, p.decision, p.reasons.map((r) => r.kind)]),
      [
        ['r:base', 'build', ['no-cache']],
        ['r:app', 'build', ['no-cache']],
        ['r:arm-arm64v8', 'build', ['no-cache']],
        ['r:args', 'build', ['dockerfile-changed', 'no-cache']],
      ],
    );
    assert.deepEqual(planOf(w.plan(undefined), 'r:base').reasons.map((r) => r.kind), ['new', 'no-cache']);
  });
});

describe('planBuilds: records ImageBuilder wrote', () => {
  it('rebuilds each once, saying so, matching display names of architecture and folder Dockerfiles', () => {
    const w = world();
    const info = asImageBuilderRecords(w.baseline());
    assert.equal(recordOf(info, 'r:arm-arm64v8', w.manifest).architecture, 'arm64v8');
    const plan = w.plan(info);
    for (const p of plan.platforms) {
      assert.deepEqual(p.reasons, [{ kind: 'no-build-key', detail: 'recorded by ImageBuilder without a build key; rebuilt once to record one' }]);
      assert.ok(p.previous, `${p.id} matched its record`);
    }
  });
});

describe('planBuilds: records that cannot explain a new key', () => {
  it('build-key-changed when the record has neither inputs nor reads', () => {
    const w = world();
    const info = w.baseline();
    const record = recordOf(info, 'r:base', w.manifest);
    delete record.inputs;
    delete record.fromImages;
    const oldKey = record.buildKey ?? '';
    w.changeDockerfile('r:base');
    const plan = w.plan(info);
    const newKey = planOf(plan, 'r:base').buildKey;
    assert.deepEqual(planOf(plan, 'r:base').reasons, [
      {
        kind: 'build-key-changed',
        detail: `build key changed (${oldKey.slice(0, 19)} → ${newKey.slice(0, 19)}); the record does not say which input did`,
        old: oldKey,
        new: newKey,
      },
    ]);
  });

  it('key-format-changed, and only that, when the record was keyed with another key format version', () => {
    const w = world();
    const info = w.baseline();
    const record = recordOf(info, 'r:args', w.manifest);
    // A record written before key format 2 has no keyVersion, and its key was computed the old way.
    assert.ok(record.inputs);
    delete record.inputs.keyVersion;
    record.buildKey = sha('a version 1 key');
    w.changeDockerfile('r:args');
    const reasons = planOf(w.plan(info), 'r:args').reasons;
    assert.deepEqual(reasons, [
      { kind: 'key-format-changed', detail: `key format changed (v1 → v${BUILD_KEY_VERSION})`, old: 1, new: BUILD_KEY_VERSION },
    ]);
    assert.deepEqual(reasonKinds(w.plan(info), 'r:base'), [], 'records of the current format are unaffected');
  });

  it('build-key-changed when the recorded inputs match but the key does not (another key version)', () => {
    const w = world();
    const info = w.baseline();
    recordOf(info, 'r:args', w.manifest).buildKey = sha('key from another imagewright version');
    assert.deepEqual(reasonKinds(w.plan(info), 'r:args'), ['build-key-changed']);
  });
});

describe('plan renderers', () => {
  function changedPlan(): Plan {
    const w = world();
    const info = w.baseline();
    w.changeDockerfile('r:base');
    w.setContextFile('r:base', 'x', sha('x'));
    planOf(w.plan(info), 'r:args').platform.tags.push('args-2');
    return w.plan(info);
  }

  it('text: one row per platform with decision, platform, Dockerfile, first reason and how many more; a summary', () => {
    const text = renderPlanText(changedPlan());
    const lines = text.split('\n');
    assert.match(lines[0] ?? '', /^DECISION\s+PLATFORM\s+DOCKERFILE\s+WHY$/);
    assert.match(lines[1] ?? '', /^build\s+r:base\s+src\/base\/Dockerfile\s+src\/base\/Dockerfile changed \(sha256:[0-9a-f]{12} → sha256:[0-9a-f]{12}\) \(\+1 more\)$/);
    assert.match(lines[2] ?? '', /^build\s+r:app\s+src\/app\/Dockerfile\s+upstream r:base is rebuilt$/);
    assert.match(lines[3] ?? '', /^reuse\s+r:arm-arm64v8\s+src\/arm\/Dockerfile\s+unchanged$/);
    assert.match(lines[4] ?? '', /^reuse\s+r:args\s+src\/args\/Dockerfile\s+unchanged; adds tags args-2$/);
    // Columns line up: the Dockerfile column starts at the same offset on every row.
    const at = (line: string): number => line.indexOf('src/');
    assert.equal(new Set(lines.slice(1, 5).map(at)).size, 1);
    assert.equal(lines.at(-2), '2 to build, 2 to reuse, 0 shared-tag indexes to publish');
  });

  it('JSON: every platform with its decision, reasons, key, reads and new tags', () => {
    const plan = changedPlan();
    const json = JSON.parse(renderPlanJson(plan)) as { platforms: Array<Record<string, unknown>> };
    assert.deepEqual(
      json.platforms.map((p) => Object.keys(p)),
      plan.platforms.map(() => ['id', 'dockerfile', 'tags', 'decision', 'reasons', 'buildKey', 'fromImages', 'inputs', 'newTags', 'movedTags']),
    );
    const base = json.platforms[0];
    assert.equal(base?.id, 'r:base');
    assert.deepEqual(base?.tags, ['base']);
    assert.deepEqual((base?.reasons as Reason[]).map((r) => r.kind), ['dockerfile-changed', 'context-changed']);
    assert.equal(base?.buildKey, plan.platforms[0]?.buildKey);
    assert.deepEqual(base?.fromImages, plan.platforms[0]?.fromImages);
    assert.deepEqual(json.platforms[3]?.newTags, ['args-2']);
  });
});

describe('planBuilds: platforms as BuildKit and the registry define them', () => {
  it('arm64 and arm64/v8 are one platform: same key, same resolution, same upstream', () => {
    const keyOf = (variant: string | undefined): { key: string; resolutions: string[]; upstream: string | undefined } => {
      const manifest = makeManifest([
        {
          name: 'r',
          images: [
            { sharedTags: ['base'], platforms: [{ dockerfile: 'src/base', architecture: 'arm64', variant: 'v8' }] },
            { platforms: [{ dockerfile: 'src/app', tags: ['app'], architecture: 'arm64', ...(variant ? { variant } : {}) }] },
          ],
        },
      ]);
      const w = World.of(manifest, { 'r:base@linux/arm64/v8': fromOnly('debian:12'), 'r:app': fromOnly(`${R}/r:base`) });
      const plan = w.plan(undefined);
      const base = planOf(plan, 'r:base@linux/arm64/v8');
      return {
        key: planOf(plan, 'r:app').buildKey,
        resolutions: w.lastResolutions.map((r) => `${r.ref} ${r.platform}`),
        upstream: planOf(plan, 'r:app').fromImages[0]?.buildKey === base.buildKey ? base.id : undefined,
      };
    };
    const plain = keyOf(undefined);
    assert.deepEqual(keyOf('v8'), plain);
    assert.deepEqual(keyOf('8'), plain);
    assert.deepEqual(plain.resolutions, [`${DEBIAN} linux/arm64`]);
    assert.equal(plain.upstream, 'r:base@linux/arm64/v8');
  });

  it('Windows platforms resolve their base for their own release, and a new release of one rebuilds only it', () => {
    const releases = ['windowsservercore-ltsc2019', 'windowsservercore-ltsc2022', 'windowsservercore-ltsc2025'];
    const manifest = makeManifest([
      { name: 'w', images: releases.map((osVersion) => ({ platforms: [{ dockerfile: `src/${osVersion}`, tags: [osVersion], os: 'windows', osVersion }] })) },
    ]);
    const SERVERCORE = 'mcr.microsoft.com/windows/servercore:ltsc';
    const w = World.of(manifest, Object.fromEntries(releases.map((r) => [`w:${r}`, fromOnly(SERVERCORE)])));
    const info = w.baseline();
    assert.deepEqual(
      w.lastResolutions.map((r) => r.platform),
      ['windows(10.0.17763)/amd64', 'windows(10.0.20348)/amd64', 'windows(10.0.26100)/amd64'],
    );
    w.pinned.set(`${SERVERCORE} windows(10.0.20348)/amd64`, sha('servercore 2022 patch Tuesday'));
    const plan = w.plan(info);
    assert.deepEqual(building(plan), ['w:windowsservercore-ltsc2022']);
    assert.equal(planOf(plan, 'w:windowsservercore-ltsc2022').inputs.platform, 'windows(10.0.20348)/amd64');
  });

  it('a Windows read of a multi-arch internal image takes the platform of the same release', () => {
    const manifest = makeManifest([
      {
        name: 'w',
        images: [
          {
            sharedTags: ['base'],
            platforms: [
              { dockerfile: 'src/base/ltsc2019', tags: ['base-ltsc2019'], os: 'windows', osVersion: 'nanoserver-1809' },
              { dockerfile: 'src/base/ltsc2022', tags: ['base-ltsc2022'], os: 'windows', osVersion: 'nanoserver-ltsc2022' },
            ],
          },
          { platforms: [{ dockerfile: 'src/app', tags: ['app-ltsc2022'], os: 'windows', osVersion: 'windowsservercore-ltsc2022' }] },
        ],
      },
    ]);
    const w = World.of(manifest, {
      'w:base-ltsc2019': fromOnly('mcr.microsoft.com/windows/nanoserver:1809'),
      'w:base-ltsc2022': fromOnly('mcr.microsoft.com/windows/nanoserver:ltsc2022'),
      'w:app-ltsc2022': fromOnly(`${R}/w:base`),
    });
    assert.deepEqual(w.graph().edges.map((e) => `${e.from} → ${e.to}`), ['w:base-ltsc2022 → w:app-ltsc2022']);
  });

  it('the build platform enters the key only of a Dockerfile that depends on it', () => {
    const w = world();
    const before = w.plan(undefined);
    const sources = w.sources();
    const app = sources.get('r:app');
    assert.ok(app);
    const input = w.input(undefined);
    const withBuildPlatform = (platform: string) =>
      planBuilds({ ...input, platforms: new Map([...input.platforms, ['r:app', { ...app, buildPlatform: platform }]]) });
    const onAmd64 = withBuildPlatform('linux/amd64');
    const onArm64 = withBuildPlatform('linux/arm64');
    assert.notEqual(planOf(onAmd64, 'r:app').buildKey, planOf(onArm64, 'r:app').buildKey);
    assert.notEqual(planOf(onAmd64, 'r:app').buildKey, planOf(before, 'r:app').buildKey);
    assert.equal(planOf(onArm64, 'r:base').buildKey, planOf(before, 'r:base').buildKey);
  });

  it('a changed build platform is named as the reason', () => {
    const w = world();
    const input = w.input(undefined);
    const app = input.platforms.get('r:app');
    assert.ok(app);
    const on = (platform: string): PlanInput => ({ ...input, platforms: new Map([...input.platforms, ['r:app', { ...app, buildPlatform: platform }]]) });
    const built = w.carryOut(planBuilds(on('linux/amd64')));
    const plan = planBuilds({ ...on('linux/arm64'), previous: built });
    assert.deepEqual(planOf(plan, 'r:app').reasons, [
      { kind: 'build-platform-changed', detail: 'build platform changed: linux/amd64 → linux/arm64', old: 'linux/amd64', new: 'linux/arm64' },
    ]);
  });
});
