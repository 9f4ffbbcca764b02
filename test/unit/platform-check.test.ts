/**
 * The checks `build` makes before anything builds: which platforms an engine cannot build at all,
 * which RUN steps need emulation (and the refusal when there is none), and reading binfmt_misc.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { analyzeDockerfile, finalBaseStage, runSteps } from '../../src/dockerfile/index.js';
import { EngineCapabilityError } from '../../src/errors.js';
import { binfmtProbe, type EmulationProbe } from '../../src/execute/emulation.js';
import { onlyUnbuildableSkipped, runDag, summaryLine, type BuildRunResult, type NodeResult } from '../../src/execute/index.js';
import type { Plan, PlatformPlan } from '../../src/plan/types.js';
import { runsNatively, sameOs } from '../../src/platform.js';
import { checkEmulation, unbuildableOnEngine, type PlatformToBuild } from '../../src/shell/platform-check.js';
import { makeManifest, platformsOf } from '../helpers/plan-fixtures.js';

const analyze = (text: string) => analyzeDockerfile(text, { file: 'Dockerfile', buildArgs: {} });
const AMD64 = { os: 'linux', architecture: 'amd64' };

describe('runSteps: where a Dockerfile executes programs', () => {
  it('gives each stage\'s first RUN with the platform it runs on, inherited through FROM <stage>', () => {
    const analysis = analyze(
      [
        'FROM --platform=$BUILDPLATFORM base AS tools', // 1
        'RUN make tools', // 2
        'RUN make more', // 3
        'FROM tools AS derived', // 4
        'RUN use tools', // 5
        'FROM base AS unused', // 6
        'RUN never', // 7
        'FROM base', // 8
        'COPY --from=derived /out /out', // 9
        'RUN ["/bin/sh", "-c", "true"]', // 10
      ].join('\n'),
    );
    assert.deepEqual(runSteps(analysis), [
      { line: 2, platform: 'linux/amd64' },
      { line: 5, platform: 'linux/amd64' },
      { line: 10 },
    ]);
  });

  it('finds none in a Dockerfile that only copies', () => {
    assert.deepEqual(runSteps(analyze('FROM base\nCOPY a /a\n')), []);
  });

  it('finalBaseStage follows FROM <stage> to the stage that names an image', () => {
    const analysis = analyze('FROM base:1 AS one\nFROM one AS two\nFROM two\nCOPY a /a\n');
    assert.deepEqual(finalBaseStage(analysis)?.base, { kind: 'image', ref: 'base:1' });
  });
});

describe('what an engine runs', () => {
  it('runs its own architecture and the 32-bit modes of amd64 and arm64 without emulation', () => {
    assert.equal(runsNatively(AMD64, { os: 'linux', architecture: 'amd64' }), true);
    assert.equal(runsNatively(AMD64, { os: 'linux', architecture: '386' }), true);
    assert.equal(runsNatively(AMD64, { os: 'linux', architecture: 'arm64', variant: 'v8' }), false);
    assert.equal(runsNatively(AMD64, { os: 'linux', architecture: 'riscv64' }), false);
    assert.equal(runsNatively({ os: 'linux', architecture: 'aarch64' }, { os: 'linux', architecture: 'arm64' }), true);
    assert.equal(runsNatively({ os: 'linux', architecture: 'arm64' }, { os: 'linux', architecture: 'arm', variant: 'v7' }), true);
  });

  it('builds images of its own OS only', () => {
    assert.equal(sameOs(AMD64, { os: 'windows', architecture: 'amd64', ociOsVersion: '10.0.20348' }), false);
    assert.equal(sameOs(AMD64, { os: 'Linux', architecture: 'arm64' }), true);
  });
});

function planOf(manifest: ReturnType<typeof makeManifest>, decisions: Record<string, 'build' | 'reuse'> = {}): Plan {
  return {
    platforms: platformsOf(manifest).map(
      (platform) =>
        ({ id: platform.id, platform, dockerfile: platform.dockerfile, tags: platform.tags, decision: decisions[platform.id] ?? 'build', reasons: [], newTags: [], movedTags: [] }) as unknown as PlatformPlan,
    ),
    indexes: [],
  };
}

describe('unbuildableOnEngine', () => {
  const manifest = makeManifest([
    {
      name: 'app',
      images: [
        {
          platforms: [
            { dockerfile: 'linux/Dockerfile', tags: ['linux'] },
            { dockerfile: 'win/Dockerfile', tags: ['win'], os: 'windows', osVersion: 'windowsservercore-ltsc2022' },
            { dockerfile: 'win19/Dockerfile', tags: ['win19'], os: 'windows', osVersion: 'nanoserver-1809' },
          ],
        },
      ],
    },
  ]);

  it('skips the Windows platforms that must build on a Linux engine, saying why; reused ones need no engine', () => {
    const skip = unbuildableOnEngine(planOf(manifest, { 'app:win19': 'reuse' }), AMD64);
    assert.deepEqual([...skip.keys()], ['app:win']);
    const reason = skip.get('app:win');
    assert.equal(reason?.kind, 'unsupported');
    assert.match(reason?.kind === 'unsupported' ? reason.detail : '', /^windows\/amd64 cannot be built on this linux\/amd64 engine; build it on a windows engine/);
  });

  it('skips the Linux platforms on a Windows engine', () => {
    assert.deepEqual([...unbuildableOnEngine(planOf(manifest), { os: 'windows', architecture: 'amd64' }).keys()], ['app:linux']);
  });
});

describe('checkEmulation', () => {
  const manifest = makeManifest([
    {
      name: 'tools',
      images: [
        {
          platforms: [
            { dockerfile: 'amd64/Dockerfile', tags: ['amd64'] },
            { dockerfile: 'arm64/Dockerfile', tags: ['arm64'], architecture: 'arm64', variant: 'v8' },
            { dockerfile: 'arm/Dockerfile', tags: ['arm'], architecture: 'arm', variant: 'v7' },
          ],
        },
      ],
    },
  ]);
  const withRun = analyze('FROM base\nRUN make\n');
  const copyOnly = analyze('FROM base\nCOPY a /a\n');
  const crossCompiled = analyzeDockerfile('FROM --platform=$BUILDPLATFORM base AS build\nRUN make\nFROM base\nCOPY --from=build /out /out\n', {
    file: 'Dockerfile',
    buildArgs: {},
    buildPlatform: AMD64,
  });
  const builds = (analysis: ReturnType<typeof analyze>): PlatformToBuild[] => platformsOf(manifest).map((platform) => ({ id: platform.id, platform, analysis }));
  const asked: string[] = [];
  const probe =
    (missing: string[]): EmulationProbe =>
    async (architecture) => {
      asked.push(architecture);
      return missing.includes(architecture) ? { state: 'missing', detail: `no qemu-${architecture} emulator is registered with binfmt_misc` } : { state: 'available' };
    };

  it('refuses foreign RUN steps without emulation: exit 3, where, and how to enable it', async () => {
    asked.length = 0;
    const refusal = await checkEmulation(builds(withRun), AMD64, probe(['arm64'])).then(
      () => assert.fail('expected a refusal'),
      (err: unknown) => err,
    );
    assert.ok(refusal instanceof EngineCapabilityError);
    assert.equal(refusal.exitCode, 3);
    assert.match(refusal.message, /RUN at \/repo\/arm64\/Dockerfile line 2 \(tools:arm64\) executes arm64 programs, but no qemu-arm64 emulator/);
    assert.match(refusal.message, /apt-get install qemu-user-static binfmt-support/);
    assert.match(refusal.message, /tonistiigi\/binfmt/);
    assert.doesNotMatch(refusal.message, /\n/);
    // amd64 runs natively; each foreign architecture is asked about once.
    assert.deepEqual(asked.sort(), ['arm', 'arm64']);
  });

  it('lets builds through when emulation is there, when nothing runs, when RUN runs on the build platform, or when it cannot tell', async () => {
    await checkEmulation(builds(withRun), AMD64, probe([]));
    await checkEmulation(builds(copyOnly), AMD64, probe(['arm64', 'arm']));
    await checkEmulation(builds(crossCompiled), AMD64, probe(['arm64', 'arm']));
    await checkEmulation(builds(withRun), AMD64, async () => ({ state: 'unknown' }));
  });
});

describe('binfmtProbe reads binfmt_misc', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'iw-binfmt-'));
    await writeFile(join(dir, 'status'), 'enabled\n');
    await writeFile(join(dir, 'qemu-aarch64'), 'enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: PF\noffset 0\n');
    await writeFile(join(dir, 'qemu-arm'), 'enabled\ninterpreter /usr/bin/qemu-arm\nflags: \noffset 0\n');
    await writeFile(join(dir, 'qemu-riscv64'), 'disabled\ninterpreter /usr/bin/qemu-riscv64-static\nflags: F\n');
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('answers by Go architecture names, and needs the F flag for containers', async () => {
    const probe = binfmtProbe({ dir, env: {} });
    assert.deepEqual(await probe('arm64'), { state: 'available' });
    assert.match(JSON.stringify(await probe('arm')), /"missing".*without the F \(fix binary\) flag/);
    assert.match(JSON.stringify(await probe('riscv64')), /qemu-riscv64 binfmt_misc entry is disabled/);
    assert.match(JSON.stringify(await probe('s390x')), /no qemu-s390x emulator is registered/);
  });

  it('cannot tell for an engine on another machine, or without binfmt_misc', async () => {
    assert.deepEqual(await binfmtProbe({ dir, env: { DOCKER_HOST: 'tcp://10.0.0.5:2376' } })('arm64'), { state: 'unknown' });
    assert.deepEqual(await binfmtProbe({ dir: join(dir, 'absent'), env: {} })('arm64'), { state: 'unknown' });
    assert.deepEqual(await binfmtProbe({ dir, env: { DOCKER_HOST: 'unix:///run/imagewright/docker.sock' } })('arm64'), { state: 'available' });
  });
});

describe('skipping what the engine cannot build', () => {
  it('the scheduler never runs a skipped node, skips its dependents with the reason, and goes on with the rest', async () => {
    const ran: string[] = [];
    const results = await runDag(
      [
        { id: 'win', upstreams: [] },
        { id: 'win-app', upstreams: ['win'] },
        { id: 'linux', upstreams: [] },
      ],
      async (id) => {
        ran.push(id);
        return id;
      },
      { concurrency: 2, keepGoing: false, skip: new Map([['win', { kind: 'unsupported', detail: 'windows/amd64 cannot be built here' }]]) },
    );
    assert.deepEqual(ran, ['linux']);
    const reason = (id: string) => (results.get(id) as Extract<NodeResult<string>, { status: 'skipped' }>).reason;
    assert.deepEqual(reason('win'), { kind: 'unsupported', detail: 'windows/amd64 cannot be built here' });
    assert.deepEqual(reason('win-app'), { kind: 'unsupported', detail: 'needs win, which cannot be built here' });
  });

  it('a run whose only gaps are such skips is INCOMPLETE, not FAILED', () => {
    const result: BuildRunResult = {
      outcomes: new Map(),
      failures: [],
      skipped: [{ id: 'app:win', reason: { kind: 'unsupported', detail: 'x' } }],
      indexes: [{ repo: 'app', imageIndex: 0, sharedTags: ['latest'], digest: '', problem: 'app:win did not finish', waitsFor: 'app:win' }],
      ok: false,
      durationMs: 1000,
    };
    assert.equal(onlyUnbuildableSkipped(result), true);
    assert.match(summaryLine(result), /^INCOMPLETE: 0 built, .*1 skipped/);
    const failed = { ...result, failures: [{ id: 'app:linux', message: 'boom', error: new Error('boom') }] };
    assert.equal(onlyUnbuildableSkipped(failed), false);
    assert.match(summaryLine(failed), /^FAILED/);
    const stopped = { ...result, skipped: [...result.skipped, { id: 'b', reason: { kind: 'stopped' as const, after: 'a' } }] };
    assert.equal(onlyUnbuildableSkipped(stopped), false);
  });
});
