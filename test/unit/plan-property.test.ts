/**
 * Property: on random dependency graphs with random changes, the platforms planned to build are exactly
 * the ones whose own inputs changed plus everything downstream of them — computed here from the
 * generated description, independently of the graph module.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DockerfileAnalysis } from '../../src/dockerfile/types.js';
import type { Reason } from '../../src/plan/types.js';
import { analysis, building, makeManifest, planOf, REGISTRY, sha, type StageSpec, World } from '../helpers/plan-fixtures.js';

/** mulberry32: small, seedable, good enough to spread test cases. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EXTERNALS = ['debian:12', 'alpine:3.20', 'golang:1.22', 'busybox:1.36'];
const normalized = (ref: string): string => `docker.io/library/${ref}`;
const INSTRUCTIONS = ['FROM', 'COPY', 'ADD', 'MOUNT', 'ONBUILD'] as const;

interface Node {
  id: string;
  arch: 'amd64' | 'arm64';
  /** Upstream node indexes (always lower than this node's). */
  upstreams: number[];
  externals: string[];
}

interface Case {
  nodes: Node[];
  world: World;
}

function generate(seed: number): Case {
  const rand = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
  const n = 2 + Math.floor(rand() * 11);
  const nodes: Node[] = [];
  for (let i = 0; i < n; i++) {
    const upstreams = [...Array(i).keys()].filter(() => rand() < 0.3);
    const externals = EXTERNALS.filter(() => rand() < 0.3);
    nodes.push({ id: `r:n${i}`, arch: rand() < 0.7 ? 'amd64' : 'arm64', upstreams, externals });
  }
  // Manifest order is a shuffle of the dependency order, so the graph has to sort.
  const manifestOrder = [...nodes.keys()].sort(() => rand() - 0.5);
  const manifest = makeManifest([
    {
      name: 'r',
      images: manifestOrder.map((i) => ({
        sharedTags: [`s${i}`],
        platforms: [{ dockerfile: `src/n${i}`, tags: [`n${i}`], architecture: nodes[i]?.arch }],
      })),
    },
  ]);
  const analyses: Record<string, DockerfileAnalysis> = {};
  for (const node of nodes) analyses[node.id] = dockerfileFor(node, nodes, pick);
  return { nodes, world: World.of(manifest, analyses) };
}

/** Stages reading the node's upstreams in random ways: platform or shared tags, FROM stages or COPY/ADD/MOUNT/ONBUILD. */
function dockerfileFor(node: Node, nodes: Node[], pick: <T>(items: readonly T[]) => T): DockerfileAnalysis {
  const stages: StageSpec[] = [];
  const final: StageSpec = { from: node.externals[0] ?? 'scratch', copyFrom: [], addFrom: [], mountFrom: [], onbuildFrom: [] };
  for (const ext of node.externals.slice(1)) final.copyFrom?.push(ext);
  for (const j of node.upstreams) {
    const up = nodes[j] as Node;
    const viaShared = pick([true, false]);
    const ref = `${REGISTRY}/r:${viaShared ? `s${j}` : `n${j}`}`;
    // A shared tag read for another architecture must say which one it wants.
    const instruction = viaShared && up.arch !== node.arch ? 'FROM' : pick(INSTRUCTIONS);
    if (instruction === 'FROM') {
      const stage: StageSpec = { name: `from-n${j}`, from: ref };
      if (up.arch !== node.arch) stage.platform = `linux/${up.arch}`;
      stages.push(stage);
    } else {
      const list = { COPY: final.copyFrom, ADD: final.addFrom, MOUNT: final.mountFrom, ONBUILD: final.onbuildFrom }[instruction];
      list?.push(ref);
    }
  }
  return analysis([...stages, final]);
}

interface Change {
  direct: Set<string>;
  describe: string[];
}

/** Random changes to the world; returns the platforms whose own inputs changed. */
function change(c: Case, seed: number): Change {
  const rand = random(seed * 7919 + 1);
  const direct = new Set<string>();
  const describe: string[] = [];
  for (const node of c.nodes) {
    if (rand() >= 0.15) continue;
    const what = Math.floor(rand() * 3);
    if (what === 0) c.world.changeDockerfile(node.id);
    if (what === 1) c.world.setContextFile(node.id, `f${Math.floor(rand() * 3)}`, sha(`${seed}`));
    if (what === 2) c.world.setBuildArg(node.id, 'V', `${seed}`);
    direct.add(node.id);
    describe.push(`${['dockerfile', 'context', 'arg'][what]} of ${node.id}`);
  }
  for (const ref of EXTERNALS) {
    const roll = rand();
    if (roll < 0.15) {
      c.world.bumpExternal(normalized(ref));
      for (const node of c.nodes) if (node.externals.includes(ref)) direct.add(node.id);
      describe.push(`new ${ref}`);
    } else if (roll < 0.3) {
      // A new image for one architecture only.
      c.world.pinned.set(`${normalized(ref)} linux/arm64`, sha(`${ref} arm64 ${seed}`));
      for (const node of c.nodes) if (node.externals.includes(ref) && node.arch === 'arm64') direct.add(node.id);
      describe.push(`new arm64 ${ref}`);
    }
  }
  return { direct, describe };
}

function downstreamClosure(nodes: Node[], roots: Set<string>): Set<string> {
  const closure = new Set(roots);
  // Nodes only read lower indexes, so one pass in index order sees every upstream settled.
  for (const node of nodes) {
    if (node.upstreams.some((j) => closure.has((nodes[j] as Node).id))) closure.add(node.id);
  }
  return closure;
}

function reads(nodes: Node[], upstream: string, downstream: string): boolean {
  const down = nodes.find((n) => n.id === downstream);
  return !!down?.upstreams.some((j) => nodes[j]?.id === upstream);
}

const TRIALS = 300;

describe('property: rebuild exactly the changed platforms and their transitive dependents', () => {
  it(`holds on ${TRIALS} random graphs and changes`, () => {
    let nonTrivial = 0;
    for (let seed = 1; seed <= TRIALS; seed++) {
      const c = generate(seed);
      const info = c.world.baseline();
      const before = c.world.plan(info);
      const { direct, describe } = change(c, seed);
      const plan = c.world.plan(info);
      const context = `seed ${seed}: ${describe.join(', ') || 'no change'}`;

      const expected = downstreamClosure(c.nodes, direct);
      assert.deepEqual(new Set(building(plan)), expected, context);
      if (expected.size > direct.size) nonTrivial++;

      for (const p of plan.platforms) {
        if (!expected.has(p.id)) {
          assert.equal(p.buildKey, planOf(before, p.id).buildKey, `${context}: key of unchanged ${p.id}`);
          continue;
        }
        const upstreamOnly = p.reasons.every((r) => r.kind === 'upstream-rebuilt');
        assert.equal(upstreamOnly, !direct.has(p.id), `${context}: reasons of ${p.id}: ${p.reasons.map((r) => r.kind).join(', ')}`);
        for (const r of p.reasons.filter((x): x is Extract<Reason, { kind: 'upstream-rebuilt' }> => x.kind === 'upstream-rebuilt')) {
          assert.ok(direct.has(r.path[0] as string), `${context}: ${p.id} blames ${r.path[0]}, which did not change`);
          assert.equal(r.path.at(-1), p.id, context);
          assert.equal(r.path.at(-2), r.upstream, context);
          for (let k = 1; k < r.path.length; k++) {
            assert.ok(reads(c.nodes, r.path[k - 1] as string, r.path[k] as string), `${context}: path ${r.path.join(' → ')}`);
          }
        }
      }

      // Carrying the plan out settles it: nothing is left to build.
      const after = c.world.carryOut(plan, 2);
      assert.deepEqual(building(c.world.plan(after)), [], `${context}: second plan`);
    }
    assert.ok(nonTrivial > TRIALS / 10, `only ${nonTrivial} cases had dependents to rebuild`);
  });

  it(`orders upstreams first and otherwise by manifest position on ${TRIALS} random graphs`, () => {
    for (let seed = 1; seed <= TRIALS; seed++) {
      const c = generate(seed);
      const graph = c.world.graph();
      const order = graph.order.map((p) => p.id);
      const manifestOrder = c.world.manifest.repos[0]?.images.map((i) => i.platforms[0]?.id ?? '') ?? [];
      // Independent reference: repeatedly take the earliest manifest entry whose upstreams are all placed.
      const placed: string[] = [];
      while (placed.length < manifestOrder.length) {
        const next = manifestOrder.find((id) => {
          const node = c.nodes.find((x) => x.id === id) as Node;
          return !placed.includes(id) && node.upstreams.every((j) => placed.includes((c.nodes[j] as Node).id));
        });
        assert.ok(next, `seed ${seed}: reference order stuck`);
        placed.push(next);
      }
      assert.deepEqual(order, placed, `seed ${seed}`);
    }
  });

  it('rebuilds only the platforms whose images went missing, never their dependents', () => {
    for (let seed = 1; seed <= 100; seed++) {
      const c = generate(seed);
      const info = c.world.baseline();
      const rand = random(seed + 424242);
      const gone = c.nodes.filter(() => rand() < 0.3).map((n) => n.id);
      const digests = gone.map((id) => info.repos[0]?.images.flatMap((i) => i.platforms).find((r) => r.simpleTags.includes(id.slice(2)))?.digest ?? '');
      const plan = c.world.plan(info, digests);
      assert.deepEqual(new Set(building(plan)), new Set(gone), `seed ${seed}`);
      for (const id of gone) assert.deepEqual(planOf(plan, id).reasons.map((r) => r.kind), ['image-missing']);
    }
  });
});
