/**
 * The case imagewright exists for, shaped like dotnet-buildtools-prereqs: cross-build images whose
 * final stage is FROM the llvm image, and which COPY the rootfs out of an intermediate stage
 * `FROM builder AS b`; llvm itself copies tools out of the builder. A change to the builder must
 * rebuild llvm and every cross image, though none of them has the builder as its final base.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DockerfileAnalysis } from '../../src/dockerfile/types.js';
import type { Reason } from '../../src/plan/types.js';
import { analysis, building, fromOnly, makeManifest, planOf, recordOf, REGISTRY, World } from '../helpers/plan-fixtures.js';

const REPO = 'dotnet-buildtools/prereqs';
const tag = (t: string): string => `${REGISTRY}/${REPO}:${t}`;
const id = (t: string): string => `${REPO}:${t}`;

const BUILDER = 'azurelinux-3.0-net9.0-crossdeps-builder-amd64';
const LLVM = 'azurelinux-3.0-net9.0-crossdeps-llvm-amd64';
const CROSS = ['arm', 'arm64', 'x64-musl', 'riscv64'].map((arch) => `azurelinux-3.0-net9.0-cross-${arch}`);
const WASM = 'azurelinux-3.0-net9.0-webassembly-amd64';
const LLVM_TEST = 'azurelinux-3.0-net9.0-crossdeps-llvm-test';
const UNRELATED = ['ubuntu-22.04-helix-amd64', 'alpine-3.20-helix-amd64', 'debian-12-amd64'];

const AZL_BASE = 'mcr.microsoft.com/azurelinux/base/core:3.0';
const LLVM_BASE = 'mcr.microsoft.com/dotnet-buildtools/llvm-base:3.0';

function seedWorld(finalStageOnly = false): World {
  const all = [BUILDER, LLVM, ...CROSS, WASM, LLVM_TEST, ...UNRELATED];
  // Manifest order puts unrelated images between the chain's members, and the builder after one of its dependents.
  const manifestOrder = [UNRELATED[0], LLVM, BUILDER, CROSS[0], UNRELATED[1], CROSS[1], WASM, CROSS[2], LLVM_TEST, CROSS[3], UNRELATED[2]] as string[];
  assert.equal(new Set(manifestOrder).size, all.length);
  const manifest = makeManifest([{ name: REPO, images: manifestOrder.map((t) => ({ platforms: [{ dockerfile: `src/${t}`, tags: [t] }] })) }]);
  const analyses: Record<string, DockerfileAnalysis> = {
    [id(BUILDER)]: fromOnly(AZL_BASE),
    [id(LLVM)]: analysis([{ from: LLVM_BASE, copyFrom: [tag(BUILDER)] }]),
    [id(WASM)]: analysis([{ from: tag(CROSS[1] as string), copyFrom: ['emscripten/emsdk:3.1'] }]),
    [id(LLVM_TEST)]: fromOnly(tag(LLVM)),
    [id(UNRELATED[0] as string)]: fromOnly('ubuntu:22.04'),
    [id(UNRELATED[1] as string)]: fromOnly('alpine:3.20'),
    [id(UNRELATED[2] as string)]: analysis([{ name: 'tools', from: 'golang:1.22' }, { from: 'debian:12', copyFrom: ['busybox:1.36'] }]),
  };
  for (const cross of CROSS) {
    analyses[id(cross)] = analysis([
      { name: 'b', from: tag(BUILDER) },
      { from: tag(LLVM) }, // COPY --from=b /crossrootfs … is a stage reference, not an image read
    ]);
  }
  if (finalStageOnly) {
    for (const [key, a] of Object.entries(analyses)) {
      const final = a.stages.at(-1)?.index;
      analyses[key] = { ...a, reads: a.reads.filter((r) => r.stageIndex === final && r.instruction === 'FROM') };
    }
  }
  return World.of(manifest, analyses);
}

function upstreamReasons(reasons: Reason[]): Array<{ upstream: string; path: string[] }> {
  return reasons.flatMap((r) => (r.kind === 'upstream-rebuilt' ? [{ upstream: r.upstream, path: r.path }] : []));
}

describe('seed case: a builder read only by intermediate stages and COPY --from', () => {
  it('orders the chain before its dependents, otherwise in manifest order', () => {
    assert.deepEqual(
      seedWorld().graph().order.map((p) => p.tags[0]),
      [UNRELATED[0], BUILDER, LLVM, CROSS[0], UNRELATED[1], CROSS[1], WASM, CROSS[2], LLVM_TEST, CROSS[3], UNRELATED[2]],
    );
  });

  it('a change to the builder\'s Dockerfile rebuilds the builder and every transitive dependent, and nothing else', () => {
    const w = seedWorld();
    const info = w.baseline();
    w.changeDockerfile(id(BUILDER));
    const plan = w.plan(info);

    const expected = new Set([BUILDER, LLVM, ...CROSS, WASM, LLVM_TEST].map(id));
    assert.deepEqual(new Set(building(plan)), expected);
    for (const p of plan.platforms) assert.equal(p.decision, expected.has(p.id) ? 'build' : 'reuse', p.id);
    for (const u of UNRELATED) assert.deepEqual(planOf(plan, id(u)).reasons, []);

    assert.deepEqual(planOf(plan, id(BUILDER)).reasons.map((r) => r.kind), ['dockerfile-changed']);
    assert.deepEqual(upstreamReasons(planOf(plan, id(LLVM)).reasons), [{ upstream: id(BUILDER), path: [id(BUILDER), id(LLVM)] }]);
    for (const cross of CROSS) {
      assert.deepEqual(planOf(plan, id(cross)).reasons.map((r) => r.kind), ['upstream-rebuilt', 'upstream-rebuilt'], cross);
      assert.deepEqual(upstreamReasons(planOf(plan, id(cross)).reasons), [
        { upstream: id(BUILDER), path: [id(BUILDER), id(cross)] },
        { upstream: id(LLVM), path: [id(BUILDER), id(LLVM), id(cross)] },
      ]);
    }
    assert.deepEqual(upstreamReasons(planOf(plan, id(WASM)).reasons), [
      { upstream: id(CROSS[1] as string), path: [id(BUILDER), id(CROSS[1] as string), id(WASM)] },
    ]);
    assert.deepEqual(upstreamReasons(planOf(plan, id(LLVM_TEST)).reasons), [{ upstream: id(LLVM), path: [id(BUILDER), id(LLVM), id(LLVM_TEST)] }]);
    const llvmReason = planOf(plan, id(LLVM)).reasons[0];
    assert.equal(llvmReason?.detail, `upstream ${id(BUILDER)} is rebuilt`);
  });

  it('contrast: a check of final-stage FROMs only would rebuild the builder alone', () => {
    const narrow = seedWorld(true);
    const narrowInfo = narrow.baseline();
    narrow.changeDockerfile(id(BUILDER));
    const narrowBuilds = building(narrow.plan(narrowInfo));
    assert.deepEqual(narrowBuilds, [id(BUILDER)]);

    const full = seedWorld();
    const fullInfo = full.baseline();
    full.changeDockerfile(id(BUILDER));
    const fullBuilds = building(full.plan(fullInfo));
    const missedByNarrow = fullBuilds.filter((p) => !narrowBuilds.includes(p));
    assert.deepEqual(missedByNarrow, [LLVM, CROSS[0], CROSS[1], WASM, CROSS[2], LLVM_TEST, CROSS[3]].map((t) => id(t as string)));
  });

  it('a new llvm base image rebuilds llvm and what reads it, not the builder', () => {
    const w = seedWorld();
    const info = w.baseline();
    w.bumpExternal(LLVM_BASE);
    const plan = w.plan(info);
    assert.deepEqual(new Set(building(plan)), new Set([LLVM, ...CROSS, WASM, LLVM_TEST].map(id)));
    assert.deepEqual(planOf(plan, id(LLVM)).reasons.map((r) => r.kind), ['from-image-changed']);
    for (const cross of CROSS) {
      assert.deepEqual(upstreamReasons(planOf(plan, id(cross)).reasons), [{ upstream: id(LLVM), path: [id(LLVM), id(cross)] }]);
    }
    assert.deepEqual(upstreamReasons(planOf(plan, id(WASM)).reasons), [
      { upstream: id(CROSS[1] as string), path: [id(LLVM), id(CROSS[1] as string), id(WASM)] },
    ]);
  });

  it('a new builder base rebuilds the same set as a builder change, blamed on the base image', () => {
    const w = seedWorld();
    const info = w.baseline();
    w.bumpExternal(AZL_BASE);
    const plan = w.plan(info);
    assert.deepEqual(new Set(building(plan)), new Set([BUILDER, LLVM, ...CROSS, WASM, LLVM_TEST].map(id)));
    const reason = planOf(plan, id(BUILDER)).reasons[0];
    assert.equal(reason?.kind === 'from-image-changed' && reason.ref, AZL_BASE);
  });

  it('with two root causes, each path starts at the upstream that changed on its own account', () => {
    const w = seedWorld();
    const info = w.baseline();
    w.changeDockerfile(id(BUILDER));
    w.bumpExternal(LLVM_BASE);
    const plan = w.plan(info);
    assert.deepEqual(planOf(plan, id(LLVM)).reasons.map((r) => r.kind), ['from-image-changed', 'upstream-rebuilt']);
    for (const cross of CROSS) {
      assert.deepEqual(upstreamReasons(planOf(plan, id(cross)).reasons), [
        { upstream: id(BUILDER), path: [id(BUILDER), id(cross)] },
        { upstream: id(LLVM), path: [id(LLVM), id(cross)] },
      ]);
    }
  });

  it('a new image copied into the webassembly image rebuilds it alone', () => {
    const w = seedWorld();
    const info = w.baseline();
    w.bumpExternal('docker.io/emscripten/emsdk:3.1');
    assert.deepEqual(building(w.plan(info)), [id(WASM)]);
  });

  it('the builder rebuilt because its image went missing leaves every dependent reused', () => {
    const w = seedWorld();
    const info = w.baseline();
    const builderDigest = recordOf(info, id(BUILDER), w.manifest).digest;
    assert.match(builderDigest, /@sha256:/);
    const plan = w.plan(info, [builderDigest]);
    assert.deepEqual(building(plan), [id(BUILDER)]);
    assert.deepEqual(planOf(plan, id(BUILDER)).reasons.map((r) => r.kind), ['image-missing']);
  });
});
