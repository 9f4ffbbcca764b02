import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DockerfileAnalysis } from '../../src/dockerfile/types.js';
import { InputError } from '../../src/errors.js';
import {
  buildGraph,
  dependentsOf,
  renderGraphDot,
  renderGraphJson,
  renderGraphMermaid,
  transitiveDependentsOf,
  upstreamsOf,
} from '../../src/graph/index.js';
import type { Manifest } from '../../src/manifest/types.js';
import { analysis, fromOnly, makeManifest, REGISTRY, simpleManifest } from '../helpers/plan-fixtures.js';

const R = REGISTRY;

function graphOf(manifest: Manifest, analyses: Record<string, DockerfileAnalysis>) {
  return buildGraph(manifest, new Map(Object.entries(analyses)));
}

function orderIds(manifest: Manifest, analyses: Record<string, DockerfileAnalysis>): string[] {
  return graphOf(manifest, analyses).order.map((p) => p.id);
}

describe('buildGraph: internal and external references', () => {
  const manifest = simpleManifest('prereqs', [
    { tag: 'base', dockerfile: 'src/base' },
    { tag: 'app', dockerfile: 'src/app' },
  ]);

  it('links a platform to the platform whose tag it reads', () => {
    const graph = graphOf(manifest, { 'prereqs:base': fromOnly('debian:12'), 'prereqs:app': fromOnly(`${R}/prereqs:base`) });
    assert.deepEqual(graph.edges, [{ from: 'prereqs:base', to: 'prereqs:app', via: 'FROM', stage: '0' }]);
    const [read] = graph.reads.get('prereqs:app') ?? [];
    assert.equal(read?.internal, 'prereqs:base');
    assert.equal(read?.ref, `${R}/prereqs:base`);
    assert.equal(read?.platform, 'linux/amd64');
  });

  it('normalizes external references and reads them for the target platform', () => {
    const graph = graphOf(manifest, { 'prereqs:base': fromOnly('debian:12'), 'prereqs:app': fromOnly(`${R}/prereqs:base`) });
    const [read] = graph.reads.get('prereqs:base') ?? [];
    assert.deepEqual({ ref: read?.ref, platform: read?.platform, internal: read?.internal }, {
      ref: 'docker.io/library/debian:12',
      platform: 'linux/amd64',
      internal: undefined,
    });
  });

  it('treats other tags, other registries and other repos as external', () => {
    const graph = graphOf(manifest, {
      'prereqs:base': fromOnly('debian:12'),
      'prereqs:app': analysis([
        { from: `${R}/prereqs:other` },
        { from: `localhost:5000/prereqs:base` },
        { from: `${R}/prereqs/base:base` },
        { from: `${R}/prereqs` },
      ]),
    });
    assert.deepEqual(graph.edges, []);
    assert.ok((graph.reads.get('prereqs:app') ?? []).every((r) => r.internal === undefined));
  });

  it('treats a read by digest as external even when its tag is the manifest\'s', () => {
    const pinned = `${R}/prereqs:base@sha256:${'a'.repeat(64)}`;
    const graph = graphOf(manifest, { 'prereqs:base': fromOnly('debian:12'), 'prereqs:app': fromOnly(pinned) });
    assert.deepEqual(graph.edges, []);
    assert.equal(graph.reads.get('prereqs:app')?.[0]?.ref, pinned);
  });

  it('compares normalized forms: a manifest without registry matches docker.io spellings', () => {
    const hub = makeManifest(
      [
        { name: 'base', images: [{ platforms: [{ dockerfile: 'src/base', tags: ['1'] }] }] },
        { name: 'myorg/tool', images: [{ platforms: [{ dockerfile: 'src/tool', tags: ['2'] }] }] },
        { name: 'app', images: [{ platforms: [{ dockerfile: 'src/app', tags: ['3'] }] }] },
      ],
      '',
    );
    const graph = graphOf(hub, {
      'base:1': fromOnly('debian:12'),
      'myorg/tool:2': fromOnly('docker.io/library/base:1'),
      'app:3': analysis([{ from: 'index.docker.io/myorg/tool:2' }, { from: 'base:1' }]),
    });
    assert.deepEqual(
      graph.edges.map((e) => `${e.from}->${e.to}`),
      ['base:1->myorg/tool:2', 'myorg/tool:2->app:3', 'base:1->app:3'],
    );
  });

  it('rejects an invalid reference, naming the Dockerfile and line', () => {
    assert.throws(
      () => graphOf(manifest, { 'prereqs:base': fromOnly('debian:12'), 'prereqs:app': analysis([{ from: 'debian' }, { from: 'Not A Ref' }]) }),
      (err: unknown) => err instanceof InputError && /src\/app\/Dockerfile: line 2: "Not A Ref" is not a valid image reference/.test(err.message),
    );
  });

  it('rejects a tag that two platforms claim', () => {
    const dup = makeManifest([
      { name: 'r', images: [{ platforms: [{ dockerfile: 'a', tags: ['x'] }] }, { platforms: [{ dockerfile: 'b', tags: ['y', 'x'] }] }] },
    ]);
    assert.throws(
      () => graphOf(dup, { 'r:x': fromOnly('debian'), 'r:y': fromOnly('debian') }),
      (err: unknown) => err instanceof InputError && err.message.includes('repos[0].images[1].platforms[0]') && err.message.includes('r:x'),
    );
  });

  it('fails loudly when a platform has no analysis (a bug in the caller, not the input)', () => {
    assert.throws(() => graphOf(manifest, { 'prereqs:base': fromOnly('debian') }), /no Dockerfile analysis for platform prereqs:app/);
  });
});

describe('buildGraph: edges', () => {
  const manifest = simpleManifest('r', [
    { tag: 'up', dockerfile: 'src/up' },
    { tag: 'down', dockerfile: 'src/down' },
  ]);
  const up = `${R}/r:up`;

  it('maps every read instruction to its edge kind, with the reading stage', () => {
    const graph = graphOf(manifest, {
      'r:up': fromOnly('debian'),
      'r:down': analysis(
        [
          { name: 'build', from: 'debian', copyFrom: [up], addFrom: [up], mountFrom: [up] },
          { from: 'stage:build', onbuildFrom: [up] },
        ],
        up,
      ),
    });
    assert.deepEqual(
      graph.edges.map((e) => [e.via, e.stage]),
      [
        ['FROM', ''], // syntax frontend
        ['COPY', 'build'],
        ['MOUNT', 'build'],
        ['COPY', '1'], // ONBUILD
      ],
    );
  });

  it('deduplicates identical edges but keeps reads from different stages apart', () => {
    const graph = graphOf(manifest, {
      'r:up': fromOnly('debian'),
      'r:down': analysis([
        { name: 'a', from: up, copyFrom: [up, up] },
        { name: 'b', from: 'debian', copyFrom: [up] },
      ]),
    });
    assert.deepEqual(
      graph.edges.map((e) => `${e.via}@${e.stage}`),
      ['FROM@a', 'COPY@a', 'COPY@b'],
    );
    assert.equal(graph.reads.get('r:down')?.length, 5, 'every read stays, only edges are deduplicated');
  });

  it('ignores reads of stages the final stage does not depend on', () => {
    const sloppy = analysis([{ name: 'unused', from: 'debian' }, { from: 'alpine' }]);
    const first = sloppy.stages[0];
    assert.ok(first);
    first.reachable = false;
    sloppy.reads.unshift({ stage: 'unused', stageIndex: 0, instruction: 'COPY', ref: up, line: 2 });
    const graph = graphOf(manifest, { 'r:up': fromOnly('debian'), 'r:down': sloppy });
    assert.deepEqual(graph.edges, []);
    assert.deepEqual(graph.reads.get('r:down')?.map((r) => r.ref), ['docker.io/library/alpine:latest']);
  });

  it('lists edges by their downstream\'s place in the build order', () => {
    const m = simpleManifest('r', [
      { tag: 'c', dockerfile: 'c' },
      { tag: 'b', dockerfile: 'b' },
      { tag: 'a', dockerfile: 'a' },
    ]);
    const graph = graphOf(m, { 'r:c': fromOnly(`${R}/r:b`), 'r:b': fromOnly(`${R}/r:a`), 'r:a': fromOnly('debian') });
    assert.deepEqual(graph.edges.map((e) => e.to), ['r:b', 'r:c']);
    assert.deepEqual([...graph.reads.keys()], ['r:a', 'r:b', 'r:c']);
  });
});

describe('buildGraph: shared tags name a multi-arch image', () => {
  const manifest = makeManifest([
    {
      name: 'base',
      images: [
        {
          sharedTags: ['latest', '1'],
          platforms: [
            { dockerfile: 'base/amd64', tags: ['1-amd64'] },
            { dockerfile: 'base/arm64', architecture: 'arm64', variant: 'v8' },
            { dockerfile: 'base/arm32', architecture: 'arm', variant: 'v7', tags: ['1-arm32v7'] },
          ],
        },
      ],
    },
    {
      name: 'app',
      images: [
        {
          platforms: [
            { dockerfile: 'app/amd64', tags: ['amd64'] },
            { dockerfile: 'app/arm64', tags: ['arm64'], architecture: 'arm64' },
            { dockerfile: 'app/arm32', tags: ['arm32'], architecture: 'arm', variant: 'v7' },
            { dockerfile: 'app/cross', tags: ['cross'], architecture: 'arm64' },
          ],
        },
      ],
    },
  ]);
  const base = {
    'base:1-amd64': fromOnly('debian'),
    'base:latest@linux/arm64/v8': fromOnly('debian'),
    'base:1-arm32v7': fromOnly('debian'),
  };

  it('resolves to the platform of the image that matches the reading platform', () => {
    const graph = graphOf(manifest, {
      ...base,
      'app:amd64': fromOnly(`${R}/base:latest`),
      'app:arm64': fromOnly(`${R}/base:1`),
      'app:arm32': fromOnly(`${R}/base:latest`),
      'app:cross': analysis([{ name: 'tools', from: `${R}/base:1`, platform: 'linux/amd64' }, { from: `${R}/base:latest` }]),
    });
    assert.deepEqual(
      graph.edges.map((e) => `${e.from} -> ${e.to} (${e.stage})`),
      [
        'base:1-amd64 -> app:amd64 (0)',
        'base:latest@linux/arm64/v8 -> app:arm64 (0)',
        'base:1-arm32v7 -> app:arm32 (0)',
        'base:1-amd64 -> app:cross (tools)',
        'base:latest@linux/arm64/v8 -> app:cross (1)',
      ],
    );
    assert.equal(graph.reads.get('app:cross')?.[0]?.platform, 'linux/amd64');
  });

  it('tells Windows platforms of one image apart by osVersion', () => {
    const win = makeManifest([
      {
        name: 'win',
        images: [
          {
            sharedTags: ['1'],
            platforms: [
              { dockerfile: 'base/ltsc2019', tags: ['1-ltsc2019'], os: 'windows', osVersion: 'nanoserver-ltsc2019' },
              { dockerfile: 'base/ltsc2022', tags: ['1-ltsc2022'], os: 'windows', osVersion: 'nanoserver-ltsc2022' },
            ],
          },
          {
            platforms: [
              { dockerfile: 'app/ltsc2022', tags: ['app-ltsc2022'], os: 'windows', osVersion: 'nanoserver-ltsc2022' },
              { dockerfile: 'app/ltsc2019', tags: ['app-ltsc2019'], os: 'windows', osVersion: 'nanoserver-ltsc2019' },
            ],
          },
        ],
      },
    ]);
    const graph = graphOf(win, {
      'win:1-ltsc2019': fromOnly('mcr.microsoft.com/windows/nanoserver:ltsc2019'),
      'win:1-ltsc2022': fromOnly('mcr.microsoft.com/windows/nanoserver:ltsc2022'),
      'win:app-ltsc2022': fromOnly(`${R}/win:1`),
      'win:app-ltsc2019': fromOnly(`${R}/win:1`),
    });
    assert.deepEqual(
      graph.edges.map((e) => `${e.from} -> ${e.to}`),
      ['win:1-ltsc2022 -> win:app-ltsc2022', 'win:1-ltsc2019 -> win:app-ltsc2019'],
    );
  });

  it('rejects a shared tag read for a platform the image lacks, naming Dockerfile, line and reference', () => {
    const s390 = makeManifest([
      ...manifest.repos.slice(0, 1).map((r) => ({ name: r.name, images: [{ sharedTags: ['latest', '1'], platforms: r.images[0]?.platforms.map((p) => ({ dockerfile: p.dockerfile, tags: p.tags, architecture: p.architecture, variant: p.variant })) ?? [] }] })),
      { name: 'app', images: [{ platforms: [{ dockerfile: 'app/s390x', tags: ['s390x'], architecture: 's390x' }] }] },
    ]);
    assert.throws(
      () => graphOf(s390, { ...base, 'app:s390x': analysis([{ from: 'debian' }, { from: `${R}/base:latest` }]) }),
      (err: unknown) =>
        err instanceof InputError &&
        /app\/s390x\/Dockerfile: line 2: 127\.0\.0\.1:5000\/base:latest names the multi-arch image .* no linux\/s390x platform/.test(err.message),
    );
  });
});

describe('buildGraph: build order', () => {
  it('puts upstreams first and otherwise keeps manifest order', () => {
    const m = simpleManifest('r', [
      { tag: 'app', dockerfile: 'app' },
      { tag: 'base', dockerfile: 'base' },
      { tag: 'other', dockerfile: 'other' },
    ]);
    // base is ready first; once it is built, app (earlier in the manifest) goes before other.
    assert.deepEqual(orderIds(m, { 'r:app': fromOnly(`${R}/r:base`), 'r:base': fromOnly('debian'), 'r:other': fromOnly('debian') }), [
      'r:base',
      'r:app',
      'r:other',
    ]);
  });

  it('keeps manifest order among independent platforms', () => {
    const m = simpleManifest('r', [
      { tag: 'z', dockerfile: 'z' },
      { tag: 'a', dockerfile: 'a' },
      { tag: 'm', dockerfile: 'm' },
    ]);
    assert.deepEqual(orderIds(m, { 'r:z': fromOnly('x'), 'r:a': fromOnly('x'), 'r:m': fromOnly('x') }), ['r:z', 'r:a', 'r:m']);
  });

  it('orders a diamond deterministically whatever order the analyses arrive in', () => {
    const m = simpleManifest('r', [
      { tag: 'top', dockerfile: 'top' },
      { tag: 'left', dockerfile: 'left' },
      { tag: 'right', dockerfile: 'right' },
      { tag: 'root', dockerfile: 'root' },
    ]);
    const analyses: Record<string, DockerfileAnalysis> = {
      'r:top': analysis([{ from: `${R}/r:left`, copyFrom: [`${R}/r:right`] }]),
      'r:left': fromOnly(`${R}/r:root`),
      'r:right': fromOnly(`${R}/r:root`),
      'r:root': fromOnly('debian'),
    };
    const forward = graphOf(m, analyses);
    const backward = buildGraph(m, new Map(Object.entries(analyses).reverse()));
    assert.deepEqual(forward.order.map((p) => p.id), ['r:root', 'r:left', 'r:right', 'r:top']);
    assert.deepEqual(backward.order.map((p) => p.id), forward.order.map((p) => p.id));
    assert.deepEqual(backward.edges, forward.edges);
  });
});

describe('buildGraph: cycles', () => {
  const m = simpleManifest('r', [
    { tag: 'a', dockerfile: 'a' },
    { tag: 'b', dockerfile: 'b' },
    { tag: 'c', dockerfile: 'c' },
    { tag: 'd', dockerfile: 'd' },
  ]);

  function cycleMessage(analyses: Record<string, DockerfileAnalysis>): string {
    try {
      graphOf(m, analyses);
    } catch (err) {
      assert.ok(err instanceof InputError, String(err));
      assert.match(err.location ?? '', /^line \d+$/);
      return err.message;
    }
    assert.fail('no cycle reported');
  }

  it('reports a platform that reads its own tag', () => {
    const message = cycleMessage({ 'r:a': analysis([{ from: 'debian', copyFrom: [`${R}/r:a`] }]), 'r:b': fromOnly('x'), 'r:c': fromOnly('x'), 'r:d': fromOnly('x') });
    assert.match(message, /^\/repo\/a\/Dockerfile: line \d+: dependency cycle between images: r:a → r:a$/);
  });

  it('lists the cycle in read direction, starting at its earliest platform', () => {
    // c reads b, b reads a, a reads c: a → b → c → a. d reads a but is not part of the cycle.
    const message = cycleMessage({
      'r:a': fromOnly(`${R}/r:c`),
      'r:b': fromOnly(`${R}/r:a`),
      'r:c': analysis([{ from: 'debian', mountFrom: [`${R}/r:b`] }]),
      'r:d': fromOnly(`${R}/r:a`),
    });
    assert.match(message, /dependency cycle between images: r:a → r:b → r:c → r:a$/);
  });

  it('finds the cycle behind a chain of platforms that only wait on it', () => {
    // d waits on c, which is in the cycle b ⇄ c; a is fine.
    const message = cycleMessage({
      'r:a': fromOnly('debian'),
      'r:b': fromOnly(`${R}/r:c`),
      'r:c': fromOnly(`${R}/r:b`),
      'r:d': fromOnly(`${R}/r:c`),
    });
    assert.match(message, /: r:b → r:c → r:b$/);
  });
});

describe('graph queries', () => {
  const m = simpleManifest('r', [
    { tag: 'root', dockerfile: 'root' },
    { tag: 'mid', dockerfile: 'mid' },
    { tag: 'leaf', dockerfile: 'leaf' },
    { tag: 'side', dockerfile: 'side' },
  ]);
  const graph = graphOf(m, {
    'r:root': fromOnly('debian'),
    'r:mid': analysis([{ from: `${R}/r:root`, copyFrom: [`${R}/r:root`] }]),
    'r:leaf': analysis([{ from: `${R}/r:mid`, copyFrom: [`${R}/r:root`] }]),
    'r:side': fromOnly('debian'),
  });

  it('answers direct and transitive neighbours once each, in build order', () => {
    assert.deepEqual(dependentsOf(graph, 'r:root'), ['r:mid', 'r:leaf']);
    assert.deepEqual(upstreamsOf(graph, 'r:leaf'), ['r:root', 'r:mid']);
    assert.deepEqual(transitiveDependentsOf(graph, 'r:root'), ['r:mid', 'r:leaf']);
    assert.deepEqual(transitiveDependentsOf(graph, 'r:side'), []);
    assert.deepEqual(upstreamsOf(graph, 'r:root'), []);
  });
});

describe('graph renderers', () => {
  const m = makeManifest([
    { name: 'r', images: [{ platforms: [{ dockerfile: 'src/base', tags: ['base', 'base-1'] }] }] },
    { name: 'o"dd', images: [{ sharedTags: ['x'], platforms: [{ dockerfile: 'src/we"ird\\path' }] }] },
  ]);
  const graph = graphOf(m, {
    'r:base': fromOnly('debian'),
    'o"dd:x@linux/amd64': analysis([{ name: 'b', from: 'alpine', copyFrom: [`${R}/r:base`] }]),
  });

  it('JSON: nodes in build order with dockerfile and tags; edges with via and stage', () => {
    assert.deepEqual(JSON.parse(renderGraphJson(graph)), {
      nodes: [
        { id: 'r:base', dockerfile: 'src/base/Dockerfile', tags: ['base', 'base-1'] },
        { id: 'o"dd:x@linux/amd64', dockerfile: 'src/we"ird\\path/Dockerfile', tags: [] },
      ],
      edges: [{ from: 'r:base', to: 'o"dd:x@linux/amd64', via: 'COPY', stage: 'b' }],
    });
  });

  it('Mermaid: a flowchart with safe node ids, labels with id and Dockerfile, edge labels with via and stage', () => {
    const lines = renderGraphMermaid(graph).trimEnd().split('\n');
    assert.equal(lines[0], 'flowchart LR');
    assert.deepEqual(lines.slice(1), [
      '  n_r_base["r:base<br/>src/base/Dockerfile"]',
      '  n_o_dd_x_linux_amd64["o#34;dd:x@linux/amd64<br/>src/we#34;ird\\path/Dockerfile"]',
      '  n_r_base -->|"COPY, stage b"| n_o_dd_x_linux_amd64',
    ]);
  });

  it('Mermaid: ids that sanitize alike stay distinct', () => {
    const clash = simpleManifest('r', [
      { tag: 'a.b', dockerfile: 'x' },
      { tag: 'a-b', dockerfile: 'y' },
    ]);
    const out = renderGraphMermaid(graphOf(clash, { 'r:a.b': fromOnly('d'), 'r:a-b': fromOnly(`${R}/r:a.b`) }));
    assert.match(out, /n_r_a_b\["r:a\.b/);
    assert.match(out, /n_r_a_b_2\["r:a-b/);
    assert.match(out, /n_r_a_b -->\|"FROM, stage 0"\| n_r_a_b_2/);
  });

  it('DOT: left to right, a cluster per repo, every id and label quoted and escaped', () => {
    const dot = renderGraphDot(graph);
    assert.equal(
      dot,
      [
        'digraph "imagewright" {',
        '  rankdir="LR";',
        '  node [shape="box"];',
        '  subgraph "cluster_0" {',
        '    label="r";',
        '    "r:base" [label="r:base\\nsrc/base/Dockerfile"];',
        '  }',
        '  subgraph "cluster_1" {',
        '    label="o\\"dd";',
        '    "o\\"dd:x@linux/amd64" [label="o\\"dd:x@linux/amd64\\nsrc/we\\"ird\\\\path/Dockerfile"];',
        '  }',
        '  "r:base" -> "o\\"dd:x@linux/amd64" [label="COPY, stage b"];',
        '}',
        '',
      ].join('\n'),
    );
    // Every statement line is balanced: quotes pair up once escapes are removed.
    for (const line of dot.split('\n')) assert.equal((line.replace(/\\./g, '').match(/"/g) ?? []).length % 2, 0, line);
  });
});

describe('buildGraph under --registry-override and --repo-prefix', () => {
  const PUBLIC = 'mcr.microsoft.com';
  const repos = [
    {
      name: 'dotnet-buildtools/prereqs',
      images: [
        { platforms: [{ dockerfile: 'src/builder', tags: ['builder-amd64'] }] },
        { sharedTags: ['cross'], platforms: [{ dockerfile: 'src/cross', tags: ['cross-amd64'] }] },
        { platforms: [{ dockerfile: 'src/app', tags: ['app-amd64'] }] },
      ],
    },
  ];
  const analyses = {
    'dotnet-buildtools/prereqs:builder-amd64': fromOnly('ubuntu:24.04'),
    'dotnet-buildtools/prereqs:cross-amd64': analysis([
      { name: 'b', from: `${PUBLIC}/dotnet-buildtools/prereqs:builder-amd64` },
      { from: 'ubuntu:24.04', copyFrom: ['stage:b'] },
    ]),
    'dotnet-buildtools/prereqs:app-amd64': analysis([{ from: `${PUBLIC}/dotnet-buildtools/prereqs:cross`, mountFrom: [`${PUBLIC}/dotnet-buildtools/prereqs:builder-amd64`] }]),
  };
  const plain = graphOf(makeManifest(repos, PUBLIC), analyses);
  const staged = graphOf(makeManifest(repos, PUBLIC, { registry: '127.0.0.1:5000', repoPrefix: 'stage-7/' }), analyses);

  it('finds the same edges and order as without the options', () => {
    assert.equal(plain.edges.length, 3);
    assert.deepEqual(staged.edges, plain.edges);
    assert.deepEqual(staged.order.map((p) => p.id), plain.order.map((p) => p.id));
  });

  it('keys internal reads by the public name and reads them at the staged location', () => {
    const reads = (g: typeof plain): Array<[string, string | undefined]> =>
      [...g.reads.values()].flat().filter((r) => r.internal !== undefined).map((r) => [r.ref, r.source]);
    assert.deepEqual(reads(plain), [
      [`${PUBLIC}/dotnet-buildtools/prereqs:builder-amd64`, undefined],
      [`${PUBLIC}/dotnet-buildtools/prereqs:cross`, undefined],
      [`${PUBLIC}/dotnet-buildtools/prereqs:builder-amd64`, undefined],
    ]);
    assert.deepEqual(reads(staged), [
      [`${PUBLIC}/dotnet-buildtools/prereqs:builder-amd64`, '127.0.0.1:5000/stage-7/dotnet-buildtools/prereqs:builder-amd64'],
      [`${PUBLIC}/dotnet-buildtools/prereqs:cross`, '127.0.0.1:5000/stage-7/dotnet-buildtools/prereqs:cross'],
      [`${PUBLIC}/dotnet-buildtools/prereqs:builder-amd64`, '127.0.0.1:5000/stage-7/dotnet-buildtools/prereqs:builder-amd64'],
    ]);
  });

  it('reads a staged name, as $(Repo:<id>) spells it in a build arg, as the same internal image', () => {
    const viaVariable = graphOf(makeManifest(repos, PUBLIC, { registry: '127.0.0.1:5000', repoPrefix: 'stage-7/' }), {
      ...analyses,
      'dotnet-buildtools/prereqs:app-amd64': fromOnly('127.0.0.1:5000/stage-7/dotnet-buildtools/prereqs:cross-amd64'),
    });
    const [read] = viaVariable.reads.get('dotnet-buildtools/prereqs:app-amd64') ?? [];
    assert.deepEqual([read?.internal, read?.ref], ['dotnet-buildtools/prereqs:cross-amd64', `${PUBLIC}/dotnet-buildtools/prereqs:cross-amd64`]);
  });
});

describe('buildGraph with --base-override-regex/--base-override-sub', () => {
  const manifest = (): Manifest => ({
    ...simpleManifest('prereqs', [{ tag: 'base', dockerfile: 'src/base' }, { tag: 'app', dockerfile: 'src/app' }], 'mcr.microsoft.com'),
    // The real repository's pipeline: everything not on mcr.microsoft.com comes from the mirror.
    baseOverride: { pattern: /^(?!mcr\.microsoft\.com)/g, replacement: 'mirror.example/' },
  });

  it('reads external images from the rewritten reference, and leaves internal ones alone', () => {
    const graph = graphOf(manifest(), {
      'prereqs:base': analysis([{ from: 'ubuntu:24.04' }, { from: 'mcr.microsoft.com/azurelinux/base/core:3.0' }]),
      'prereqs:app': fromOnly('mcr.microsoft.com/prereqs:base'),
    });
    const [ubuntu, core] = graph.reads.get('prereqs:base') ?? [];
    assert.deepEqual([ubuntu?.ref, ubuntu?.source], ['docker.io/library/ubuntu:24.04', 'mirror.example/ubuntu:24.04']);
    assert.deepEqual([core?.ref, core?.source], ['mcr.microsoft.com/azurelinux/base/core:3.0', undefined]);
    assert.equal(graph.reads.get('prereqs:app')?.[0]?.internal, 'prereqs:base');
  });

  it('names the Dockerfile line when the rewrite is no image reference', () => {
    const broken = { ...manifest(), baseOverride: { pattern: /^/g, replacement: 'NOT VALID/' } };
    assert.throws(
      () => graphOf(broken, { 'prereqs:base': fromOnly('ubuntu:24.04'), 'prereqs:app': fromOnly('ubuntu:24.04') }),
      (err: unknown) => err instanceof InputError && /line 1: .*turn ubuntu:24\.04 into "NOT VALID\/ubuntu:24\.04"/.test(err.message),
    );
  });
});
