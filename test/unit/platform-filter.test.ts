/**
 * ImageBuilder's filters (--os-type, --architecture, --os-version, --path, wildcards) and what
 * they select on plan, build, matrix and graph.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OptionError } from '../../src/errors.js';
import { describeFilter, matchesFilter, type FilterablePlatform } from '../../src/manifest/index.js';
import { computeLegs, legInput } from '../../src/matrix/index.js';
import { filteredGraph, filteredPlan, selectLeg, selectPlatforms } from '../../src/plan/index.js';
import { fromOnly, makeManifest, REGISTRY, World } from '../helpers/plan-fixtures.js';

const p = (dockerfile: string, os: string, osVersion: string, architecture: string, variant?: string): FilterablePlatform => ({
  dockerfile,
  os,
  osVersion,
  architecture,
  ...(variant ? { variant } : {}),
});

const azl = p('src/azurelinux/3.0/net9.0/build/amd64/Dockerfile', 'linux', 'azurelinux3.0', 'amd64');
const azlArm = p('src/azurelinux/3.0/net9.0/build/arm64v8/Dockerfile', 'linux', 'azurelinux3.0', 'arm64', 'v8');
const ubuntuArm32 = p('src/ubuntu/24.04/arm32v7/Dockerfile', 'linux', 'noble', 'arm', 'v7');
const nano = p('src/nanoserver/ltsc2022/amd64/Dockerfile', 'windows', 'nanoserver-ltsc2022', 'amd64');
const core19 = p('src/windowsservercore/ltsc2019/amd64/Dockerfile', 'windows', 'windowsservercore-ltsc2019', 'amd64');
const all = [azl, azlArm, ubuntuArm32, nano, core19];
const selected = (filter: Parameters<typeof matchesFilter>[1]): string[] => all.filter((x) => matchesFilter(x, filter)).map((x) => x.osVersion + '/' + x.architecture);

describe('matchesFilter', () => {
  it('--os-type: the OS, case aside', () => {
    assert.deepEqual(selected({ osTypes: ['Windows'] }), ['nanoserver-ltsc2022/amd64', 'windowsservercore-ltsc2019/amd64']);
  });

  it('--architecture: the architecture (arm64 is arm64/v8), with the variant, or ImageBuilder\'s display name', () => {
    assert.deepEqual(selected({ architectures: ['arm64'] }), ['azurelinux3.0/arm64']);
    assert.deepEqual(selected({ architectures: ['arm'] }), ['noble/arm']);
    assert.deepEqual(selected({ architectures: ['arm/v7'] }), ['noble/arm']);
    assert.deepEqual(selected({ architectures: ['arm32v7'] }), ['noble/arm']);
    assert.deepEqual(selected({ architectures: ['arm*'] }), ['azurelinux3.0/arm64', 'noble/arm']);
  });

  it('--os-version: the manifest osVersion, whole, with * and ? wildcards', () => {
    assert.deepEqual(selected({ osVersions: ['*ltsc2022'] }), ['nanoserver-ltsc2022/amd64']);
    assert.deepEqual(selected({ osVersions: ['azurelinux?.0'] }), ['azurelinux3.0/amd64', 'azurelinux3.0/arm64']);
    assert.deepEqual(selected({ osVersions: ['ltsc2022'] }), [], 'the whole value must match');
  });

  it('--path: ImageBuilder\'s wildcard over the folder (* crosses /), a folder prefix, or a glob', () => {
    assert.deepEqual(selected({ paths: ['src/azurelinux/*'] }), ['azurelinux3.0/amd64', 'azurelinux3.0/arm64']);
    assert.deepEqual(selected({ paths: ['src/ubuntu'] }), ['noble/arm']);
    assert.deepEqual(selected({ paths: ['src/*/ltsc20??/amd64'] }), ['nanoserver-ltsc2022/amd64', 'windowsservercore-ltsc2019/amd64']);
  });

  it('every filter given must match (any one of its values)', () => {
    assert.deepEqual(selected({ osTypes: ['linux'], architectures: ['amd64', 'arm'] }), ['azurelinux3.0/amd64', 'noble/arm']);
    assert.deepEqual(selected({}), all.map((x) => x.osVersion + '/' + x.architecture));
    assert.equal(describeFilter({ osTypes: ['linux'], paths: ['src/a', 'src/b'] }), '--os-type linux --path src/a --path src/b');
  });
});

describe('filtered commands', () => {
  // A Linux base read by a Linux app and by an arm64 app; a Windows image apart.
  const manifest = () =>
    makeManifest([
      {
        name: 'r',
        images: [
          { platforms: [{ dockerfile: 'src/base/amd64', tags: ['base'] }] },
          { platforms: [{ dockerfile: 'src/app/amd64', tags: ['app'] }, { dockerfile: 'src/app/arm64', tags: ['app-arm64'], architecture: 'arm64' }] },
          { platforms: [{ dockerfile: 'src/win/ltsc2022', tags: ['win'], os: 'windows', osVersion: 'windowsservercore-ltsc2022' }] },
        ],
      },
    ]);
  const world = () =>
    World.of(manifest(), {
      'r:base': fromOnly('debian'),
      'r:app': fromOnly(`${REGISTRY}/r:base`),
      'r:app-arm64': fromOnly('debian'),
      'r:win': fromOnly('mcr.microsoft.com/windows/servercore:ltsc2022'),
    });

  it('plan: shows the selected platforms, each keyed as in the whole plan', () => {
    const w = world();
    const whole = w.plan(undefined);
    const linux = filteredPlan(whole, { osTypes: ['linux'], architectures: ['amd64'] });
    assert.deepEqual(linux.platforms.map((x) => x.id), ['r:base', 'r:app']);
    for (const platform of linux.platforms) assert.equal(platform.buildKey, whole.platforms.find((x) => x.id === platform.id)?.buildKey);
  });

  it('build: refuses to leave out an upstream that must build, naming the option', () => {
    const w = world();
    assert.throws(
      () => selectPlatforms(w.plan(undefined), w.graph(), { paths: ['src/app/*'] }),
      (err: unknown) => err instanceof OptionError && /^--path: r:app needs r:base built first, and --path leaves it out; add src\/base\/amd64\/Dockerfile$/.test(err.message),
    );
    assert.deepEqual(selectPlatforms(w.plan(undefined), w.graph(), { osTypes: ['windows'] }).platforms.map((x) => x.id), ['r:win']);
    assert.throws(() => selectPlatforms(w.plan(undefined), w.graph(), { osVersions: ['nope*'] }), /--os-version: nope\* matches no platform$/);
  });

  it('graph and matrix: only the selected platforms and the reads between them', () => {
    const graph = filteredGraph(world().graph(), { architectures: ['amd64'], osTypes: ['linux'] });
    assert.deepEqual(graph.order.map((x) => x.id), ['r:base', 'r:app']);
    assert.deepEqual(graph.edges.map((e) => [e.from, e.to]), [['r:base', 'r:app']]);
    const matrix = computeLegs(legInput(filteredGraph(world().graph(), { osTypes: ['windows'] })));
    assert.deepEqual(matrix.legs.map((l) => [l.name, l.pool]), [['windows-ltsc2022-amd64-src-win-ltsc2022', 'windowsLtsc2022Amd64']]);
  });

  it('build --leg finds the leg that matrix named with the same filters', () => {
    const w = world();
    const filter = { architectures: ['arm64'] };
    const [leg] = computeLegs(legInput(filteredGraph(w.graph(), filter))).legs;
    assert.ok(leg);
    const selected = selectLeg(filteredPlan(w.plan(undefined), filter), filteredGraph(w.graph(), filter), leg.name, undefined);
    assert.deepEqual(selected.platforms.map((x) => x.id), ['r:app-arm64']);
  });
});
