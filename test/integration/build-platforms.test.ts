/**
 * `imagewright build` and platforms, on the real engine and registry:
 * - an arm64 platform on an amd64-only base is refused before any build starts (exit 2), unless
 *   --skip-platform-check;
 * - a Windows platform in a run on this Linux engine is skipped with its reason while the Linux
 *   platforms build (exit 4);
 * - arm64 and arm/v7 platforms with RUN steps build under QEMU from a real multi-arch base index.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeIndex, putIndex } from '../../src/execute/publish.js';
import { createRegistryClient } from '../../src/registry/index.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { engineProcessEnv, ensureBaseImages, fileInImage, loadEngineEnv, uniqueRepoPrefix } from '../helpers/engine.js';
import { emulationSkipReason, pushMultiArchBase } from '../helpers/multiarch.js';

interface PlatformSpec {
  dir: string;
  tag: string;
  dockerfile: string;
  os?: string;
  osVersion?: string;
  architecture?: string;
  variant?: string;
}

/** A manifest folder with one repo whose image has these platforms. */
async function repository(root: string, name: string, repo: string, platforms: PlatformSpec[]): Promise<string> {
  const dir = join(root, name);
  for (const p of platforms) {
    await mkdir(join(dir, p.dir), { recursive: true });
    await writeFile(join(dir, p.dir, 'Dockerfile'), p.dockerfile);
    await writeFile(join(dir, p.dir, 'hello.txt'), `hello from ${p.dir}\n`);
  }
  const manifest = {
    registry: loadEngineEnv().registry,
    repos: [
      {
        name: repo,
        images: [
          {
            platforms: platforms.map((p) => ({
              dockerfile: p.dir,
              os: p.os ?? 'linux',
              osVersion: p.osVersion ?? 'busybox',
              ...(p.architecture ? { architecture: p.architecture } : {}),
              ...(p.variant ? { variant: p.variant } : {}),
              tags: { [p.tag]: {} },
            })),
          },
        ],
      },
    ],
  };
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return dir;
}

function build(dir: string, ...args: string[]): Promise<CliResult> {
  return runCli(['build', '--image-info', 'image-info.json', '--log-dir', 'logs', ...args], {
    cwd: dir,
    env: engineProcessEnv({ IMAGEWRIGHT_DOCKER: loadEngineEnv().docker }),
    timeoutMs: 8 * 60_000,
  });
}

describe('build and platforms on the real engine', { timeout: 10 * 60_000 }, () => {
  let root: string;
  let prefix: string;
  let base: string;

  before(async () => {
    prefix = uniqueRepoPrefix('build-platforms');
    await ensureBaseImages(prefix);
    // A single linux/amd64 image, not an index.
    base = `${loadEngineEnv().registry}/${prefix}/base/busybox:stable`;
    root = await mkdtemp(join(tmpdir(), 'iw-build-platforms-'));
  });

  after(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('refuses an arm64 platform on an amd64-only base before anything builds; --skip-platform-check builds it', async () => {
    const dockerfile = `FROM ${base}\nCOPY hello.txt /hello.txt\n`;
    const dir = await repository(root, 'mislabelled', `${prefix}/img/tools`, [
      { dir: 'amd64', tag: 'amd64', dockerfile },
      { dir: 'arm64', tag: 'arm64v8', dockerfile, architecture: 'arm64', variant: 'v8' },
    ]);
    const refused = await build(dir);
    assert.equal(refused.code, 2, refused.stderr);
    const lines = refused.stderr.trim().split('\n').filter((l) => l.startsWith('imagewright: error:'));
    assert.equal(lines.length, 1, refused.stderr);
    assert.match(
      lines[0] ?? '',
      /arm64\/Dockerfile: line 1: base image .*\/base\/busybox:stable is a single linux\/amd64 image, not an index, so .*:arm64v8 cannot be built for linux\/arm64 on it \(--skip-platform-check/,
    );
    // Nothing started: no build log, no image-info.
    assert.deepEqual(await readdir(join(dir, 'logs')).catch(() => []), []);
    await assert.rejects(readFile(join(dir, 'image-info.json')));

    const forced = await build(dir, '--skip-platform-check');
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, /built\s+\S+:arm64v8/);
  });

  it('plan: a base index without the platform is bad input (exit 2) naming the Dockerfile line and what the index offers', async () => {
    const client = createRegistryClient();
    const head = await client.headManifest(base);
    assert.ok(head);
    const index = `${loadEngineEnv().registry}/${prefix}/base/busybox:index`;
    const amd64Only = await describeIndex(client, [{ image: `${loadEngineEnv().registry}/${prefix}/base/busybox@${head.digest}`, os: 'linux', architecture: 'amd64' }]);
    await putIndex(client, amd64Only, [index]);
    const dir = await repository(root, 'index-lacks', `${prefix}/img/lacks`, [
      { dir: 'arm64', tag: 'arm64v8', dockerfile: `# a comment\nFROM ${index}\nCOPY hello.txt /hello.txt\n`, architecture: 'arm64', variant: 'v8' },
    ]);
    const result = await runCli(['plan', '--image-info', 'image-info.json'], { cwd: dir, env: engineProcessEnv() });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /arm64\/Dockerfile: line 2: image \S+base\/busybox:index has no linux\/arm64 image: the index offers linux\/amd64\n$/);
  });

  it('skips a Windows platform in a run on this Linux engine, with its reason, while the Linux one builds (exit 4)', async () => {
    const dir = await repository(root, 'mixed', `${prefix}/img/mixed`, [
      { dir: 'linux', tag: 'linux', dockerfile: `FROM ${base}\nCOPY hello.txt /hello.txt\n` },
      { dir: 'windows', tag: 'ltsc2022', dockerfile: 'FROM scratch\nCOPY hello.txt /hello.txt\n', os: 'windows', osVersion: 'windowsservercore-ltsc2022' },
    ]);
    const result = await build(dir);
    assert.equal(result.code, 4, result.stderr);
    assert.match(result.stderr, /built\s+\S+img\/mixed:linux/);
    assert.match(result.stderr, /skipped \S+img\/mixed:ltsc2022: windows\/amd64 cannot be built on this linux\/amd64 engine; build it on a windows engine/);
    assert.match(result.stderr, /INCOMPLETE: 1 built, .*1 skipped/);
    // The skipped platform never reached the engine.
    assert.deepEqual((await readdir(join(dir, 'logs'))).filter((f) => f.includes('ltsc2022')), []);
    // Filtered out, it is not work left undone.
    const linuxOnly = await build(dir, '--os-type', 'linux');
    assert.equal(linuxOnly.code, 0, linuxOnly.stderr);
    // Plain progress lines, each after its timestamp.
    assert.doesNotMatch(linuxOnly.stderr, /^\[[ \d.ms]+\] skipped/m);
    assert.match(linuxOnly.stderr, /^\[[ \d.ms]+\] done: .*0 skipped/m);
  });

  it('builds arm64 and arm/v7 platforms with RUN steps under QEMU from a real multi-arch base index', async (t) => {
    const skip = await emulationSkipReason();
    if (skip) {
      t.skip(skip);
      return;
    }
    const multi = await pushMultiArchBase(prefix);
    const dockerfile = `FROM ${multi}\nRUN ["/bin/busybox", "sh", "-c", "/bin/busybox uname -m > /arch"]\n`;
    const repo = `${prefix}/img/emulated`;
    const dir = await repository(root, 'emulated', repo, [
      { dir: 'arm64', tag: 'arm64v8', dockerfile, architecture: 'arm64', variant: 'v8' },
      { dir: 'arm32', tag: 'arm32v7', dockerfile, architecture: 'arm', variant: 'v7' },
    ]);
    const result = await build(dir);
    assert.equal(result.code, 0, result.stderr);
    const registry = loadEngineEnv().registry;
    assert.equal((await fileInImage(`${registry}/${repo}:arm64v8`, '/arch')).trim(), 'aarch64');
    assert.equal((await fileInImage(`${registry}/${repo}:arm32v7`, '/arch')).trim(), 'armv7l');
    const info = JSON.parse(await readFile(join(dir, 'image-info.json'), 'utf8')) as { repos: Array<{ images: Array<{ platforms: Array<{ baseImageDigest?: string }> }> }> };
    const platforms = info.repos[0]?.images[0]?.platforms ?? [];
    assert.equal(platforms.length, 2);
    // Each was built on its own architecture's image out of the index.
    assert.equal(new Set(platforms.map((p) => p.baseImageDigest)).size, 2);
  });
});
