import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeLegs, githubMatrix, legInput, renderAzureMatrix, type Leg, type LegPlatform, type Matrix } from '../../src/matrix/index.js';
import { loadRepository } from '../../src/shell/plan.js';
import { examplePrereqsDir } from '../helpers/engine.js';
import { join } from 'node:path';

function platform(id: string, architecture = 'amd64', extra: Partial<LegPlatform> = {}): LegPlatform {
  return { id, dockerfile: `src/${id}/${architecture}/Dockerfile`, os: 'linux', osVersion: 'bookworm', architecture, ...extra };
}

/** Every edge goes from a leg of an earlier wave, or stays inside one leg. */
function assertWaveRule(matrix: Matrix, edges: ReadonlyArray<{ from: string; to: string }>): void {
  const legOf = new Map<string, Leg>();
  for (const leg of matrix.legs) for (const id of leg.platformIds) legOf.set(id, leg);
  for (const e of edges) {
    const [from, to] = [legOf.get(e.from), legOf.get(e.to)];
    if (!from || !to || from === to) continue;
    assert.ok(from.wave < to.wave, `${e.from} (${from.name}, wave ${from.wave}) is read by ${e.to} (${to.name}, wave ${to.wave})`);
  }
}

describe('matrix legs', () => {
  it('splits the example repository into its connected groups, named as ImageBuilder names them', async () => {
    const { graph } = await loadRepository({ manifestFile: join(examplePrereqsDir, 'manifest.json'), skipContexts: true });
    const matrix = computeLegs(legInput(graph));
    assert.equal(matrix.waves, 1);
    assert.deepEqual(
      matrix.legs.map((l) => [l.name, l.platformIds.length]),
      [
        ['linux-amd64-src-builder-graph', 5],
        ['linux-amd64-src-toolchain', 1],
        ['linux-amd64-src-assets', 1],
        ['linux-amd64-src-docs', 1],
        ['linux-amd64-src-tools', 1],
      ],
    );
    const builder = matrix.legs[0] as Leg;
    // Upstreams first: a leg's --path list is also its build order.
    assert.deepEqual(builder.platformIds.slice(0, 2), ['prereqs:builder-amd64', 'prereqs:llvm-amd64']);
    assert.ok(builder.paths.includes('src/cross/riscv64/Dockerfile'));
  });

  it('puts a leg that reads from another os/architecture in a later wave', () => {
    const platforms = [platform('sdk'), platform('runtime', 'arm64'), platform('app', 'arm64'), platform('tool')];
    const edges = [
      { from: 'sdk', to: 'app' }, // cross-architecture: arm64 app built from the amd64 sdk
      { from: 'runtime', to: 'app' },
      { from: 'sdk', to: 'tool' },
    ];
    const matrix = computeLegs({ platforms, edges });
    assert.deepEqual(
      matrix.legs.map((l) => [l.name, l.wave, l.platformIds, l.dependsOn]),
      [
        ['linux-amd64-src-sdk-graph', 0, ['sdk', 'tool'], []],
        ['linux-arm64-src-runtime-graph', 1, ['runtime', 'app'], ['linux-amd64-src-sdk-graph']],
      ],
    );
    assert.equal(matrix.waves, 2);
    assertWaveRule(matrix, edges);
  });

  it('chains waves, and splits legs of different pools that read from each other in a cycle', () => {
    // amd64 a → arm64 b → amd64 c: a and c are not connected inside amd64, so three waves.
    const chain = computeLegs({
      platforms: [platform('a'), platform('b', 'arm64'), platform('c')],
      edges: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'c' },
      ],
    });
    assert.deepEqual(chain.legs.map((l) => [l.platformIds, l.wave]), [[['a'], 0], [['b'], 1], [['c'], 2]]);
    // amd64 a → arm64 b → amd64 c, with a → c: the amd64 leg {a, c} and the arm64 leg {b} need each other.
    const edges = [
      { from: 'a', to: 'b' },
      { from: 'b', to: 'c' },
      { from: 'a', to: 'c' },
    ];
    const cycle = computeLegs({ platforms: [platform('a'), platform('b', 'arm64'), platform('c')], edges });
    // Split into platforms, the waves order them and no leg mixes amd64 and arm64.
    assert.deepEqual(cycle.legs.map((l) => [l.platformIds, l.wave, l.architecture]), [[['a'], 0, 'amd64'], [['b'], 1, 'arm64'], [['c'], 2, 'amd64']]);
    assertWaveRule(cycle, edges);
    // Only when a and c share a Dockerfile (one --path builds both) does the cycle remain, and is joined.
    const shared = computeLegs({ platforms: [platform('a'), platform('b', 'arm64'), platform('c', 'amd64', { dockerfile: 'src/a/amd64/Dockerfile' })], edges });
    assert.deepEqual(shared.legs.map((l) => [l.platformIds, l.architecture]), [[['a', 'b', 'c'], 'amd64,arm64']]);
  });

  it('--max-legs packs each wave into at most N legs, keeping the wave rule', () => {
    const platforms: LegPlatform[] = [];
    const edges: Array<{ from: string; to: string }> = [];
    for (let i = 0; i < 7; i++) platforms.push(platform(`base${i}`));
    for (let i = 0; i < 5; i++) {
      platforms.push(platform(`arm${i}`, 'arm64'));
      edges.push({ from: `base${i}`, to: `arm${i}` });
    }
    platforms.push(platform('big1'), platform('big2'));
    edges.push({ from: 'big1', to: 'big2' }, { from: 'base6', to: 'big1' });
    const matrix = computeLegs({ platforms, edges }, { maxLegs: 3 });
    for (let wave = 0; wave < matrix.waves; wave++) assert.ok(matrix.legs.filter((l) => l.wave === wave).length <= 3);
    assert.equal(matrix.legs.reduce((n, l) => n + l.platformIds.length, 0), platforms.length);
    assertWaveRule(matrix, edges);
    // The largest leg keeps its name; packed ones say how many they took in.
    assert.ok(matrix.legs.some((l) => l.name === 'linux-amd64-src-base6-graph'));
    assert.ok(matrix.legs.some((l) => /-plus-\d+$/.test(l.name)));
    assert.deepEqual(computeLegs({ platforms, edges }, { maxLegs: 3 }), matrix, 'the same inputs give the same legs');
  });

  it('--only-changed hides legs with nothing to build, keeps names, and renumbers the waves', () => {
    const platforms = [platform('sdk'), platform('runtime', 'arm64'), platform('app', 'arm64'), platform('docs')];
    const edges = [
      { from: 'sdk', to: 'app' },
      { from: 'runtime', to: 'app' },
    ];
    const full = computeLegs({ platforms, edges });
    const changed = computeLegs({ platforms, edges }, { work: new Set(['app', 'docs']) });
    assert.deepEqual(
      changed.legs.map((l) => [l.name, l.wave, l.platformIds]),
      [
        ['linux-amd64-src-docs', 0, ['docs']],
        // sdk is reused: app reads its recorded image, so app's leg need not wait.
        ['linux-arm64-src-runtime-graph', 0, ['app']],
      ],
    );
    assert.ok(changed.legs.every((l) => full.legs.some((f) => f.name === l.name)));
    assert.equal(computeLegs({ platforms, edges }, { work: new Set() }).legs.length, 0);
  });

  it('groups Windows platforms by OS version as well', () => {
    const matrix = computeLegs({
      platforms: [
        platform('nano', 'amd64', { os: 'windows', osVersion: 'nanoserver-ltsc2022' }),
        platform('core', 'amd64', { os: 'windows', osVersion: 'windowsservercore-ltsc2019' }),
        platform('arm', 'arm', { variant: 'v7' }),
      ],
      edges: [],
    });
    assert.deepEqual(matrix.legs.map((l) => l.name).sort(), ['linux-arm32v7-src', 'windows-1809-amd64-src-core', 'windows-ltsc2022-amd64-src-nano']);
  });
});

describe('matrix renderers', () => {
  const matrix = computeLegs({
    platforms: [platform('sdk'), platform('app', 'arm64', { dockerfile: 'src/my app/Dockerfile' })],
    edges: [{ from: 'sdk', to: 'app' }],
  });

  it('github: one include list, optionally one wave', () => {
    const all = JSON.parse(githubMatrix(matrix)) as { include: Array<Record<string, unknown>> };
    assert.equal(all.include.length, 2);
    assert.deepEqual(all.include[1], {
      leg: 'linux-arm64-src-my-app',
      wave: 1,
      os: 'linux',
      osType: 'linux',
      osVersion: '',
      osVersions: ['bookworm'],
      architecture: 'arm64',
      pool: 'linuxArm64',
      runsOn: 'ubuntu-24.04-arm',
      platforms: 1,
      paths: ['src/my app/Dockerfile'],
      pathArgs: "--path 'src/my app/Dockerfile'",
      dependsOn: ['linux-amd64-src-sdk'],
    });
    assert.ok(!githubMatrix(matrix).includes('\n'));
    assert.deepEqual((JSON.parse(githubMatrix(matrix, 1)) as { include: Array<{ leg: string }> }).include.map((e) => e.leg), ['linux-arm64-src-my-app']);
  });

  it('azure: one matrix per pool (per wave too), then every leg, keyed by leg name', () => {
    const lines = renderAzureMatrix(matrix).trimEnd().split('\n');
    assert.deepEqual(
      lines.map((l) => /^##vso\[task\.setvariable variable=(\w+);isOutput=true\]/.exec(l)?.[1]),
      ['linuxAmd64', 'linuxAmd64Wave0', 'linuxArm64', 'linuxArm64Wave1', 'matrix', 'matrixWave0', 'matrixWave1', 'waves', 'publish', 'pools'],
    );
    assert.equal(lines[9], '##vso[task.setvariable variable=pools;isOutput=true]linuxAmd64 linuxArm64');
    const all = JSON.parse((lines[4] as string).replace(/^[^\]]*\]/, '')) as Record<string, Record<string, string>>;
    assert.deepEqual(all['linux-amd64-src-sdk'], {
      leg: 'linux-amd64-src-sdk',
      legName: 'linux-amd64-src-sdk',
      wave: '0',
      imageBuilderPaths: '--path src/sdk/amd64/Dockerfile',
      pathArgs: '--path src/sdk/amd64/Dockerfile',
      osType: 'linux',
      osVersion: '',
      osVersions: '--os-version bookworm',
      architecture: 'amd64',
      pool: 'linuxAmd64',
      platforms: '1',
    });
    assert.deepEqual(Object.keys(JSON.parse((lines[6] as string).replace(/^[^\]]*\]/, '')) as object), ['linux-arm64-src-my-app']);
    assert.deepEqual(Object.keys(JSON.parse((lines[2] as string).replace(/^[^\]]*\]/, '')) as object), ['linux-arm64-src-my-app']);
  });
});

describe('legs: arm64 and arm64/v8 are one platform', () => {
  it('puts arm64 and arm64/v8 platforms connected by a read into one leg, named without the default variant', () => {
    const platforms = [platform('base', 'arm64', { variant: 'v8', dockerfile: 'src/base/arm64v8/Dockerfile' }), platform('app', 'arm64', { dockerfile: 'src/app/arm64/Dockerfile' })];
    const matrix = computeLegs({ platforms, edges: [{ from: 'base', to: 'app' }] });
    assert.deepEqual(
      matrix.legs.map((l) => [l.name, l.architecture, l.variant, l.platformIds]),
      [['linux-arm64-src-base-arm64v8-graph', 'arm64', undefined, ['base', 'app']]],
    );
  });
});

describe('legs never mix machine pools', () => {
  // Linux amd64/arm64/arm32 and Windows Server 2019, 2022 and 2025, with cross-pool reads.
  const platforms: LegPlatform[] = [];
  const edges: Array<{ from: string; to: string }> = [];
  for (let i = 0; i < 6; i++) {
    platforms.push(platform(`amd${i}`), platform(`arm64-${i}`, 'arm64', { variant: 'v8' }), platform(`arm32-${i}`, 'arm', { variant: 'v7' }));
    edges.push({ from: `amd${i}`, to: `arm64-${i}` });
  }
  for (const [release, osVersion] of [['2019', 'windowsservercore-ltsc2019'], ['2022', 'nanoserver-ltsc2022'], ['2025', 'windowsservercore-ltsc2025']]) {
    for (let i = 0; i < 3; i++) platforms.push(platform(`win${release}-${i}`, 'amd64', { os: 'windows', osVersion }));
  }
  const pools = (matrix: Matrix): string[] => [...new Set(matrix.legs.map((l) => l.pool))].sort();

  for (const maxLegs of [undefined, 1, 4, 9]) {
    it(`each leg holds one OS type, Windows release and architecture${maxLegs ? ` (--max-legs ${maxLegs})` : ''}`, () => {
      const matrix = computeLegs({ platforms, edges }, maxLegs ? { maxLegs } : {});
      const byId = new Map(platforms.map((p) => [p.id, p]));
      for (const leg of matrix.legs) {
        const members = leg.platformIds.map((id) => byId.get(id) as LegPlatform);
        const keys = new Set(members.map((m) => `${m.os}/${m.os === 'windows' ? m.osVersion.replace(/^.*-/, '') : ''}/${m.architecture}`));
        assert.equal(keys.size, 1, `${leg.name} mixes ${[...keys].join(' and ')}`);
        assert.ok(!leg.osType.includes(',') && !leg.architecture.includes(',') && !leg.pool.includes(','), leg.name);
      }
      assert.deepEqual(pools(matrix), ['linuxAmd64', 'linuxArm32', 'linuxArm64', 'windows1809Amd64', 'windowsLtsc2022Amd64', 'windowsLtsc2025Amd64']);
      assert.equal(matrix.legs.reduce((n, l) => n + l.platformIds.length, 0), platforms.length);
      assertWaveRule(matrix, edges);
      // A wave with more pools than --max-legs keeps one leg per pool; otherwise the cap holds.
      for (let wave = 0; wave < matrix.waves; wave++) {
        const inWave = matrix.legs.filter((l) => l.wave === wave);
        const poolsInWave = new Set(inWave.map((l) => l.pool)).size;
        if (maxLegs) assert.ok(inWave.length <= Math.max(maxLegs, poolsInWave), `wave ${wave}: ${inWave.length} legs`);
      }
    });
  }

  it('names the Windows release a leg\'s host runs and the manifest osVersions it builds', () => {
    const matrix = computeLegs({ platforms, edges });
    const win = matrix.legs.find((l) => l.pool === 'windows1809Amd64');
    assert.equal(win?.osVersion, '1809');
    assert.deepEqual(win?.osVersions, ['windowsservercore-ltsc2019']);
    assert.equal(matrix.legs.find((l) => l.pool === 'linuxArm64')?.osVersion, '');
  });

  it('github: runsOn per pool from the documented defaults, overridable per pool', () => {
    const matrix = computeLegs({ platforms, edges });
    const entries = (runsOn?: Record<string, string>) =>
      new Map((JSON.parse(githubMatrix(matrix, undefined, runsOn)) as { include: Array<{ pool: string; runsOn: string; os: string; osVersion: string; architecture: string }> }).include.map((e) => [e.pool, e]));
    const defaults = entries();
    assert.equal(defaults.get('linuxAmd64')?.runsOn, 'ubuntu-latest');
    assert.equal(defaults.get('linuxArm64')?.runsOn, 'ubuntu-24.04-arm');
    assert.equal(defaults.get('windowsLtsc2022Amd64')?.runsOn, 'windows-2022');
    const win = defaults.get('windows1809Amd64');
    assert.deepEqual([win?.os, win?.osVersion, win?.architecture, win?.runsOn], ['windows', '1809', 'amd64', 'windows-2019']);
    assert.equal(entries({ linuxArm64: 'self-hosted-arm' }).get('linuxArm64')?.runsOn, 'self-hosted-arm');
  });

  it('docs/pools.md lists the default runner label of every pool', async () => {
    const { readFile } = await import('node:fs/promises');
    const { DEFAULT_RUNS_ON } = await import('../../src/matrix/render.js');
    const text = await readFile(join(import.meta.dirname, '..', '..', 'docs', 'pools.md'), 'utf8');
    const rows = new Map([...text.matchAll(/^\| `(\w+)` \| `([^`]+)` \|/gm)].map((m) => [m[1], m[2]]));
    assert.deepEqual(Object.fromEntries(rows), DEFAULT_RUNS_ON);
  });
});
