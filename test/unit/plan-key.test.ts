import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contextDigest, CONTEXT_DIGEST_VERSION } from '../../src/context/index.js';
import { BUILD_KEY_VERSION, buildKey, externalResolutions, planBuilds, resolutionKey, type BuildKeyMaterial } from '../../src/plan/index.js';
import type { PlanInput } from '../../src/plan/types.js';
import { analysis, fromOnly, makeManifest, planOf, REGISTRY, sha, simpleManifest, World } from '../helpers/plan-fixtures.js';

const R = REGISTRY;

const material: BuildKeyMaterial = {
  dockerfile: sha('Dockerfile'),
  context: sha('context'),
  buildArgs: { A: '1', B: '2' },
  platform: 'linux/amd64',
  reads: [
    { stage: 'build', instruction: 'FROM', ref: 'docker.io/library/debian:12', source: { kind: 'image', digest: sha('debian') } },
    { stage: '1', instruction: 'COPY', ref: `${R}/r:base`, source: { kind: 'upstream', buildKey: sha('upstream key') } },
  ],
};

describe('buildKey', () => {
  it('is a sha256 digest, the same for the same inputs', () => {
    assert.match(buildKey(material), /^sha256:[0-9a-f]{64}$/);
    assert.equal(buildKey(structuredClone(material)), buildKey(material));
  });

  it('does not depend on the order build args were written in', () => {
    assert.equal(buildKey({ ...material, buildArgs: { B: '2', A: '1' } }), buildKey(material));
  });

  it('changes with every input, and each change gives a different key', () => {
    const [first, second] = material.reads;
    assert.ok(first && second);
    const variants: Record<string, BuildKeyMaterial> = {
      dockerfile: { ...material, dockerfile: sha('Dockerfile 2') },
      context: { ...material, context: sha('context 2') },
      'arg value': { ...material, buildArgs: { A: '1', B: '3' } },
      'arg added, empty': { ...material, buildArgs: { A: '1', B: '2', C: '' } },
      'arg removed': { ...material, buildArgs: { A: '1' } },
      'arg renamed': { ...material, buildArgs: { A: '1', b: '2' } },
      platform: { ...material, platform: 'linux/arm64' },
      'platform variant': { ...material, platform: 'linux/amd64/v2' },
      'read stage': { ...material, reads: [{ ...first, stage: 'other' }, second] },
      'read instruction': { ...material, reads: [first, { ...second, instruction: 'ADD' }] },
      'read ref': { ...material, reads: [{ ...first, ref: 'docker.io/library/debian:13' }, second] },
      'read digest': { ...material, reads: [{ ...first, source: { kind: 'image', digest: sha('debian 2') } }, second] },
      'upstream key': { ...material, reads: [first, { ...second, source: { kind: 'upstream', buildKey: sha('upstream key 2') } }] },
      'read order': { ...material, reads: [second, first] },
      'read removed': { ...material, reads: [first] },
      'read repeated': { ...material, reads: [first, second, second] },
      // Fields must not run into each other: moving text between them is a change.
      'text moved between fields': { ...material, dockerfile: material.context, context: material.dockerfile },
    };
    const keys = new Map<string, string>([['original', buildKey(material)]]);
    for (const [name, changed] of Object.entries(variants)) {
      const key = buildKey(changed);
      const clash = [...keys].find(([, k]) => k === key);
      assert.equal(clash, undefined, `${name} gives the same key as ${clash?.[0]}`);
      keys.set(name, key);
    }
  });
});

/**
 * Golden keys: the exact build key of a fixed material, per key format version. A change to what enters
 * the key or how it is serialized fails here: every user's images would rebuild on upgrade. If that is
 * intended, bump BUILD_KEY_VERSION (plans then say "key format changed (vN → vN+1)") and add the new
 * version's key below. Never edit an existing entry.
 */
const GOLDEN_BUILD_KEYS: Record<number, { material: string; withBuildPlatform: string }> = {
  2: {
    material: 'sha256:912f250f8e11c1d7bb2adce260ddf6e2f90dc56bcd646b6f550aeefa5a192b98',
    withBuildPlatform: 'sha256:12225b8f6a13f41e1330ff152f622d315bc6af3aee14e9c9ed3fdbbcf684b756',
  },
  3: {
    material: 'sha256:5f71ffa6b6714690145ebf89c6c21a1394836bc483c15b71fff34974e15d549e',
    withBuildPlatform: 'sha256:9c30cefa8335ee5fcd23ecb4c7b6a84e3636d8f2fba0e79f26996bed481949a1',
  },
};

/** Golden context digests, per CONTEXT_DIGEST_VERSION; the same rules (a bump here is a key format bump too). */
const GOLDEN_CONTEXT_DIGESTS: Record<number, { empty: string; files: string }> = {
  1: {
    empty: 'sha256:6a5a7a8df16ae8a1aa93b54ccc792a2afb0eee0a932b1d0d42f7f367978c45eb',
    files: 'sha256:c9fc0b810167a77a70e0cca9ab64c4269a31da01358f38d69511d700c02b477f',
  },
  2: {
    empty: 'sha256:1b352d36044b8bec64c61a18ef8ee99f15f7fbd49c1d3e6ce268ebdd3c2106df',
    files: 'sha256:c60e69a0acf0abaffbdf8abe8ff9cd479dbff5c50a1ff93a80278af376d18ca7',
  },
};

describe('key stability (golden keys)', () => {
  it(`pins the build key of a fixed material for key format v${BUILD_KEY_VERSION}`, () => {
    const golden = GOLDEN_BUILD_KEYS[BUILD_KEY_VERSION];
    assert.equal(buildKey(material), golden?.material, 'the build key format changed: see the comment on GOLDEN_BUILD_KEYS');
    assert.equal(buildKey({ ...material, buildPlatform: 'linux/arm64' }), golden?.withBuildPlatform);
    assert.equal(buildKey({ ...material, buildPlatform: '' }), golden?.material, 'no build platform is keyed as none');
  });

  it(`pins the context digest of fixed entries for context format v${CONTEXT_DIGEST_VERSION}`, () => {
    const golden = GOLDEN_CONTEXT_DIGESTS[CONTEXT_DIGEST_VERSION];
    assert.equal(contextDigest([]), golden?.empty, 'the context digest format changed: see the comment on GOLDEN_CONTEXT_DIGESTS');
    assert.equal(
      contextDigest([
        ['a/b.txt', sha('b')],
        ['run.sh', `${sha('run')}+x`],
        ['z', 'link:a/b.txt'],
      ]),
      golden?.files,
    );
  });

  it('keeps composed digests of different kinds apart: a context digest is never a build key', () => {
    assert.notEqual(contextDigest([]), sha('[]'), 'the context digest carries its format tag');
    assert.ok(!Object.values(GOLDEN_BUILD_KEYS).some((golden) => golden.material === contextDigest([])));
  });
});

describe('resolutionKey and externalResolutions', () => {
  const manifest = makeManifest([
    {
      name: 'r',
      images: [
        { platforms: [{ dockerfile: 'a', tags: ['a'] }] },
        { platforms: [{ dockerfile: 'b', tags: ['b'] }] },
        { platforms: [{ dockerfile: 'c', tags: ['c'], architecture: 'arm64' }] },
      ],
    },
  ]);
  const world = World.of(manifest, {
    'r:a': analysis([{ from: 'debian:12', copyFrom: ['docker.io/library/debian:12', 'golang:1'] }]),
    'r:b': analysis([{ from: 'index.docker.io/library/debian:12', mountFrom: [`${R}/r:a`] }]),
    'r:c': analysis([{ name: 'tools', from: 'golang:1', platform: 'linux/amd64' }, { from: 'debian:12' }]),
  });

  it('lists each distinct external (reference, platform) once, whatever the spelling, internal ones never', () => {
    assert.deepEqual(externalResolutions(world.graph()), [
      { ref: 'docker.io/library/debian:12', platform: 'linux/amd64' },
      { ref: 'docker.io/library/golang:1', platform: 'linux/amd64' },
      { ref: 'docker.io/library/debian:12', platform: 'linux/arm64' },
    ]);
  });

  it('keys resolutions by reference and platform', () => {
    const refs = ['docker.io/library/debian:12', 'docker.io/library/golang:1'];
    const keys = refs.flatMap((ref) => ['linux/amd64', 'linux/arm64'].map((p) => resolutionKey(ref, p)));
    assert.equal(new Set(keys).size, 4);
    assert.equal(resolutionKey(refs[0] as string, 'linux/amd64'), resolutionKey(refs[0] as string, 'linux/amd64'));
  });

  it('stops with a clear error when the shell left a reference unresolved', () => {
    const input = world.input(undefined);
    const resolved = new Map(input.resolved);
    resolved.delete(resolutionKey('docker.io/library/golang:1', 'linux/amd64'));
    assert.throws(() => planBuilds({ ...input, resolved }), /docker\.io\/library\/golang:1 was not resolved for linux\/amd64/);
  });
});

describe('build keys in a plan', () => {
  function world(): World {
    const manifest = simpleManifest('r', [
      { tag: 'base', dockerfile: 'base', buildArgs: { X: '1', Y: '2' } },
      { tag: 'app', dockerfile: 'app' },
    ]);
    return World.of(manifest, { 'r:base': fromOnly('debian:12'), 'r:app': analysis([{ from: `${R}/r:base`, copyFrom: ['golang:1'] }]) });
  }

  function keys(input: PlanInput): string[] {
    return planBuilds(input).platforms.map((p) => p.buildKey);
  }

  it('does not depend on the insertion order of any map or object in the input', () => {
    const input = world().input(undefined);
    const reordered: PlanInput = {
      ...input,
      resolved: new Map([...input.resolved].reverse()),
      platforms: new Map(
        [...input.platforms].reverse().map(([id, s]) => [id, { ...s, context: { ...s.context, files: Object.fromEntries(Object.entries(s.context.files).reverse()) } }]),
      ),
      graph: { ...input.graph, reads: new Map([...input.graph.reads].reverse()) },
    };
    const base = reordered.graph.order[0];
    assert.ok(base);
    reordered.graph.order = [{ ...base, buildArgs: { Y: '2', X: '1' } }, ...reordered.graph.order.slice(1)];
    assert.deepEqual(keys(reordered), keys(input));
  });

  it('is known for a whole chain before anything builds: internal reads enter by the upstream key', () => {
    const plan = world().plan(undefined);
    const base = planOf(plan, 'r:base');
    const app = planOf(plan, 'r:app');
    assert.deepEqual(app.fromImages[0], { stage: '0', instruction: 'FROM', ref: `${R}/r:base`, digest: '', internal: true, buildKey: base.buildKey });
  });

  it('changes downstream when the upstream key changes, not when only the upstream image does', () => {
    const w = world();
    const before = w.plan(undefined);
    w.changeDockerfile('r:base');
    const after = w.plan(undefined);
    assert.notEqual(planOf(after, 'r:app').buildKey, planOf(before, 'r:app').buildKey);

    const again = world();
    const info = again.baseline();
    const missing = again.plan(info, [info.repos[0]?.images[0]?.platforms[0]?.digest ?? '']);
    assert.deepEqual(missing.platforms.map((p) => [p.id, p.decision, p.buildKey === planOf(before, p.id).buildKey]), [
      ['r:base', 'build', true],
      ['r:app', 'reuse', true],
    ]);
  });

  it('differs between platforms that read the same reference for different architectures', () => {
    const manifest = makeManifest([
      {
        name: 'r',
        images: [{ platforms: [{ dockerfile: 'same', tags: ['amd64'] }, { dockerfile: 'same', tags: ['arm64'], architecture: 'arm64' }] }],
      },
    ]);
    const w = World.of(manifest, { 'r:amd64': fromOnly('debian:12'), 'r:arm64': fromOnly('debian:12') });
    const plan = w.plan(undefined);
    assert.notEqual(planOf(plan, 'r:amd64').fromImages[0]?.digest, planOf(plan, 'r:arm64').fromImages[0]?.digest);
    assert.notEqual(planOf(plan, 'r:amd64').buildKey, planOf(plan, 'r:arm64').buildKey);
  });
});
