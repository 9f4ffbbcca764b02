/**
 * The shapes of dotnet/dotnet-buildtools-prereqs-docker (test/fixtures/real-shapes), built as its
 * pipeline builds it: `--registry-override` and `--repo-prefix` stage every image in the loopback
 * registry, Dockerfiles name internal images by their public mcr.microsoft.com name, and external
 * images come from a mirror through `--base-override-regex`/`--base-override-sub`. No public registry
 * is reachable from here, so a build that pulled anything by its public name would fail.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { digestOfReference, shortDigest } from '../../src/digest.js';
import { type CliResult, runCli, succeeded } from '../helpers/cli.js';
import { registryDigest, runImage } from '../helpers/e2e.js';
import { ensureBaseImages, loadEngineEnv, repoRoot, run, uniqueRepoPrefix } from '../helpers/engine.js';
import { pushImage } from '../helpers/registry-content.js';

const FIXTURE = join(repoRoot, 'test', 'fixtures', 'real-shapes');
const REPO = 'dotnet-buildtools/prereqs';
const LINUX = [
  'linux-builder-amd64',
  'linux-amd64',
  'linux-helix-amd64',
  'linux-tool-1.0-amd64',
  'linux-tool-2.0-amd64',
  'linux-tool-latest-amd64',
  'linux-standalone-amd64',
] as const;
const BUILDER_DEPENDENTS = ['linux-amd64', 'linux-helix-amd64', 'linux-tool-1.0-amd64', 'linux-tool-2.0-amd64', 'linux-tool-latest-amd64'];
/** linux-tool-latest-amd64 has linux-tool-2.0-amd64's build inputs: built once, under both tags. */
const BUILT_ONCE = (tags: readonly string[]): string[] => tags.filter((t) => t !== 'linux-tool-latest-amd64').sort();

interface GraphJson {
  nodes: Array<{ id: string }>;
  edges: Array<{ from: string; to: string; via: string }>;
}

interface PlanJson {
  platforms: Array<{ id: string; decision: 'build' | 'reuse'; reasons: Array<{ kind: string; detail: string }>; movedTags?: unknown[] }>;
}

interface RecordJson {
  dockerfile: string;
  simpleTags: string[];
  digest: string;
  osType: string;
  osVersion: string;
  architecture: string;
  commitUrl?: string;
  fromImages?: Array<{ instruction: string; ref: string; digest: string; internal: boolean }>;
}

class Staging {
  private constructor(
    readonly dir: string,
    /** `--repo-prefix`: where this run stages the manifest's images. */
    readonly repoPrefix: string,
    /** The mirror external images are read from. */
    readonly mirror: string,
  ) {}

  static async create(): Promise<Staging> {
    const registry = loadEngineEnv().registry;
    const basePrefix = uniqueRepoPrefix('shapes-base');
    await ensureBaseImages(basePrefix);
    // The Windows base image: enough of one for the plan to resolve (it is never built on Linux).
    const host = { host: registry, url: `http://${registry}`, authorization: () => undefined };
    await pushImage(host as unknown as Parameters<typeof pushImage>[0], `${basePrefix}/base/nanoserver`, 'ltsc2022', {
      platform: { os: 'windows', architecture: 'amd64' },
    });
    const dir = await mkdtemp(join(tmpdir(), 'iw-shapes-'));
    await cp(FIXTURE, dir, { recursive: true });
    // A git repository with a remote, as the real one is: image-info's commitUrl comes from it.
    for (const args of [['init', '-q'], ['remote', 'add', 'origin', 'git@github.com:example/real-shapes.git'], ['add', '.'], ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'fixture']]) {
      await run('git', ['-C', dir, ...args]);
    }
    const staging = new Staging(dir, `${uniqueRepoPrefix('stage')}/`, `${registry}/${basePrefix}/base/`);
    // One write per call, so that parallel builds do not interleave; fields separated by \037.
    const script = ['#!/bin/sh', `record=$(printf '%s\\037' "$@")`, `printf '%s\\n' "$record" >> '${staging.logFile}'`, `exec '${loadEngineEnv().docker}' "$@"`, ''];
    await writeFile(staging.wrapper, script.join('\n'));
    await chmod(staging.wrapper, 0o755);
    return staging;
  }

  get logFile(): string {
    return join(this.dir, 'docker-calls.log');
  }

  get wrapper(): string {
    return join(this.dir, 'docker-wrapper.sh');
  }

  /** The pipeline's options: stage under the prefix, read external images from the mirror. */
  get stagingArgs(): string[] {
    return [
      '--registry-override',
      loadEngineEnv().registry,
      '--repo-prefix',
      this.repoPrefix,
      '--base-override-regex',
      '^(?:docker\\.io/library|mcr\\.microsoft\\.com/windows)/',
      '--base-override-sub',
      this.mirror,
    ];
  }

  /** The ids `plan` decides to build (the Windows platform, which this engine never builds, left out). */
  async planned(...args: string[]): Promise<string[]> {
    const result = await this.cli('plan', '--format', 'json', ...this.stagingArgs, ...args);
    succeeded(result, 'plan');
    const plan = JSON.parse(result.stdout) as PlanJson;
    return plan.platforms.filter((p) => p.decision === 'build' && !p.id.includes('nanoserver')).map((p) => p.id.slice(p.id.indexOf(':') + 1)).sort();
  }

  cli(...args: string[]): Promise<CliResult> {
    const env = { DOCKER_HOST: loadEngineEnv().dockerHost, IMAGEWRIGHT_DOCKER: this.wrapper, DOCKER_BUILDKIT: '1' };
    return runCli(args, { cwd: this.dir, env, timeoutMs: 5 * 60_000 });
  }

  /** `build --push` of the Linux platforms (a Linux engine cannot build the Windows one); returns the tags built. */
  async build(): Promise<string[]> {
    await rm(this.logFile, { force: true });
    succeeded(await this.cli('build', '--push', '--image-info', 'image-info.json', '--path', 'src/linux/**', ...this.stagingArgs), 'build');
    if (!existsSync(this.logFile)) return [];
    const calls = (await readFile(this.logFile, 'utf8')).split('\n').filter((l) => l.length > 0).map((l) => l.split('\x1f'));
    return calls
      .filter((args) => (args[0] === 'build' || (args[0] === 'buildx' && args[1] === 'build')) && !args.includes('--help'))
      .map((args) => {
        const ref = args[args.indexOf('-t') + 1] ?? '';
        return ref.slice(ref.lastIndexOf(':') + 1);
      })
      .sort();
  }

  /** Where the run staged a tag. */
  staged(tag: string): string {
    return `${loadEngineEnv().registry}/${this.repoPrefix}${REPO}:${tag}`;
  }

  async records(): Promise<{ repos: string[]; byTag: Map<string, RecordJson> }> {
    const info = JSON.parse(await readFile(join(this.dir, 'image-info.json'), 'utf8')) as {
      repos: Array<{ repo: string; images: Array<{ platforms: RecordJson[] }> }>;
    };
    const byTag = new Map<string, RecordJson>();
    for (const repo of info.repos) for (const image of repo.images) for (const p of image.platforms) byTag.set(p.simpleTags[0] ?? '', p);
    return { repos: info.repos.map((r) => r.repo), byTag };
  }

  async edit(file: string, text: string): Promise<void> {
    await writeFile(join(this.dir, file), text);
  }
}

describe('the real repository\'s shapes, staged with --registry-override and --repo-prefix', { timeout: 15 * 60_000 }, () => {
  let staging: Staging;

  before(async () => {
    staging = await Staging.create();
  });

  after(async () => {
    if (staging) await rm(staging.dir, { recursive: true, force: true });
  });

  it('the graph under --registry-override and --repo-prefix equals the graph without them', async () => {
    const graph = async (...args: string[]): Promise<GraphJson> => {
      const result = await staging.cli('graph', ...args);
      succeeded(result, 'graph');
      return JSON.parse(result.stdout) as GraphJson;
    };
    const plain = await graph();
    const staged = await graph(...staging.stagingArgs);
    assert.equal(plain.edges.length, 6, 'builder → linux, helix (FROM and MOUNT), tool 1.0, 2.0 and latest');
    assert.deepEqual(staged, plain);
  });

  it('a build stages every image under the prefix, reading internal images there, pinned to the digests the plan keyed', async () => {
    assert.deepEqual(await staging.build(), BUILT_ONCE(LINUX));
    const { repos, byTag } = await staging.records();
    assert.deepEqual(repos, [REPO], 'image-info names the repo as the manifest does');
    assert.deepEqual([...byTag.keys()].sort(), [...LINUX].sort(), 'one record per platform');
    const latest = await registryDigest(staging.staged('linux-tool-latest-amd64'));
    assert.equal(latest, await registryDigest(staging.staged('linux-tool-2.0-amd64')), 'identical inputs: one image under both tags');
    assert.equal(byTag.get('linux-tool-latest-amd64')?.digest, byTag.get('linux-tool-2.0-amd64')?.digest);
    // What ImageBuilder's ImageArtifactDetails.FromJson requires of every platform (Required.Always), typed.
    const sha = (await run('git', ['-C', staging.dir, 'rev-parse', 'HEAD'])).stdout.trim();
    for (const [tag, record] of byTag) {
      for (const field of ['dockerfile', 'digest', 'osType', 'osVersion', 'architecture', 'commitUrl'] as const) {
        assert.equal(typeof record[field], 'string', `${tag}: ${field}`);
      }
      assert.equal(record.commitUrl, `https://github.com/example/real-shapes/blob/${sha}/${record.dockerfile}`, `${tag}: commitUrl`);
    }
    const builderDigest = await registryDigest(staging.staged('linux-builder-amd64'));
    for (const tag of LINUX) {
      const inRegistry = await registryDigest(staging.staged(tag));
      assert.ok(inRegistry.startsWith('sha256:'), `${tag} is not staged`);
      // ImageBuilder's form: the manifest's registry and repo name, not where the run staged it.
      assert.equal(byTag.get(tag)?.digest, `mcr.microsoft.com/${REPO}@${inRegistry}`, `${tag}: recorded digest`);
    }
    for (const tag of BUILDER_DEPENDENTS) {
      const reads = (byTag.get(tag)?.fromImages ?? []).filter((f) => f.internal);
      assert.ok(reads.length > 0, `${tag} records no internal read`);
      for (const read of reads) {
        assert.equal(read.ref, `mcr.microsoft.com/${REPO}:linux-builder-amd64`, `${tag} keys the builder by its public name`);
        assert.equal(read.digest, builderDigest, `${tag} read the staged builder`);
      }
    }
    assert.equal((await runImage(staging.staged('linux-helix-amd64'))).trim(), 'builder 1\nbuilder 1\nhelix 1');
    assert.equal((await runImage(staging.staged('linux-tool-2.0-amd64'))).trim(), 'builder 1\ntool 2.0');
  });

  it('a second run builds nothing, planning from image-info or from the images\' labels', async () => {
    assert.deepEqual(await staging.build(), []);
    assert.deepEqual(await staging.planned('--image-info', 'image-info.json'), []);
    assert.deepEqual(await staging.planned(), []);
  });

  it('an image-info as ImageBuilder writes it, and one as imagewright wrote it before, are matched under the override and prefix', async () => {
    const written = JSON.parse(await readFile(join(staging.dir, 'image-info.json'), 'utf8')) as {
      repos: Array<{ repo: string; images: Array<{ platforms: Array<Record<string, unknown> & RecordJson> }> }>;
    };
    const rewrite = async (file: string, change: (repo: (typeof written.repos)[number], record: Record<string, unknown> & RecordJson) => void): Promise<void> => {
      const copy = structuredClone(written);
      for (const repo of copy.repos) for (const image of repo.images) for (const record of image.platforms) change(repo, record);
      await staging.edit(file, JSON.stringify(copy, null, 2));
    };
    // ImageBuilder's own: none of imagewright's additions, the Dockerfile's folder. Every record is found (none is `new`), and built once to record a build key.
    await rewrite('imagebuilder.json', (_, record) => {
      for (const field of ['buildKey', 'fromImages', 'inputs', 'variant', 'isUnchanged']) delete record[field];
      record.dockerfile = record.dockerfile.replace(/\/Dockerfile$/, '');
    });
    const fromImageBuilder = await staging.cli('plan', '--format', 'json', '--image-info', 'imagebuilder.json', ...staging.stagingArgs);
    succeeded(fromImageBuilder, 'plan');
    assert.doesNotMatch(fromImageBuilder.stderr, /warning/);
    const reasons = (JSON.parse(fromImageBuilder.stdout) as PlanJson).platforms.filter((p) => !p.id.includes('nanoserver')).map((p) => p.reasons.map((r) => r.kind).join());
    assert.deepEqual(reasons, LINUX.map(() => 'no-build-key'));
    // imagewright's files before: the prefix in the repo name, the staged location in the digests.
    await rewrite('staged.json', (repo, record) => {
      repo.repo = `${staging.repoPrefix}${REPO}`;
      record.digest = record.digest.replace(`mcr.microsoft.com/${REPO}@`, `${loadEngineEnv().registry}/${staging.repoPrefix}${REPO}@`);
    });
    assert.deepEqual(await staging.planned('--image-info', 'staged.json'), []);
    // The prefix of another run: nothing belongs, and one warning says which repo names the file has.
    const other = await staging.cli('plan', '--image-info', 'staged.json', ...staging.stagingArgs.map((a) => (a === staging.repoPrefix ? 'stage-other/' : a)));
    succeeded(other, 'plan');
    assert.deepEqual(other.stderr.trim().split('\n').filter((l) => l.includes('belongs to')), [
      `imagewright: warning: staged.json: none of its ${LINUX.length} platform records belongs to a platform of the manifest, so every platform is new: ` +
        `the closest repo names it has are "${staging.repoPrefix}${REPO}" (the manifest's "${REPO}"); image-info names repos as the manifest does, without --repo-prefix`,
    ]);
  });

  it('a tag moved by hand is put back on the recorded image: plan says why (exit code 10), build re-tags, the next plan is 0', async () => {
    const tag = 'linux-standalone-amd64';
    const recorded = digestOfReference((await staging.records()).byTag.get(tag)?.digest ?? '');
    const plan = async (): Promise<{ code: number; json: PlanJson & { registryRequests: number } }> => {
      const result = await staging.cli('plan', '--format', 'json', '--exit-code', '--image-info', 'image-info.json', '--path', 'src/linux/**', ...staging.stagingArgs);
      assert.ok(result.code === 0 || result.code === 10, result.stderr);
      return { code: result.code, json: JSON.parse(result.stdout) as PlanJson & { registryRequests: number } };
    };
    const before = await plan();
    assert.equal(before.code, 0, 'the Linux platforms are up to date');
    const registry = loadEngineEnv().registry;
    const host = { host: registry, url: `http://${registry}`, authorization: () => undefined };
    const other = await pushImage(host as unknown as Parameters<typeof pushImage>[0], `${staging.repoPrefix}${REPO}`, tag, { layerText: 'pushed by another tool' });
    assert.equal(await registryDigest(staging.staged(tag)), other.digest);

    const moved = await plan();
    assert.equal(moved.code, 10, '--exit-code: a moved tag is work');
    const standalone = moved.json.platforms.find((p) => p.id === `${REPO}:${tag}`);
    assert.equal(standalone?.decision, 'reuse');
    const detail = `tag ${tag} names ${shortDigest(other.digest)}, not the recorded image ${shortDigest(recorded)}`;
    assert.deepEqual(standalone?.movedTags, [{ tag, recorded, found: other.digest, detail }]);
    assert.equal(moved.json.platforms.filter((p) => (p.movedTags ?? []).length > 0).length, 1);
    // One request per recorded image (its tag), and one more for the image behind the moved tag.
    assert.equal(moved.json.registryRequests, before.json.registryRequests + 1);
    const text = await staging.cli('plan', '--image-info', 'image-info.json', ...staging.stagingArgs);
    assert.match(text.stdout, new RegExp(`^reuse +${REPO}:${tag} +src/linux/standalone/Dockerfile +unchanged; re-tags: ${detail}$`, 'm'));

    assert.deepEqual(await staging.build(), [], 'nothing is rebuilt');
    assert.equal(await registryDigest(staging.staged(tag)), recorded, 'the tag names the recorded image again');
    const after = await plan();
    assert.equal(after.code, 0);
    assert.ok(after.json.platforms.every((p) => (p.movedTags ?? []).length === 0));
    assert.deepEqual(await staging.planned('--image-info', 'image-info.json'), []);
    assert.equal(after.json.registryRequests, before.json.registryRequests);
  });

  it('both modes decide the same on an osVersion change and on renamed tags: the platform is new', async () => {
    const manifestFile = 'src/linux/manifest.json';
    const original = await readFile(join(staging.dir, manifestFile), 'utf8');
    // The two modes decide alike. `src/linux`'s context holds the manifest file, which its Dockerfile does not copy.
    const bothModes = async (): Promise<string[]> => {
      const fromFile = await staging.planned('--image-info', 'image-info.json');
      assert.deepEqual(await staging.planned(), fromFile, 'planning from labels decides as planning from image-info');
      return fromFile;
    };
    try {
      await staging.edit(manifestFile, original.replace(/("dockerfile": "src\/linux\/standalone",\s*"os": "linux",\s*"osVersion": )"azurelinux3.0"/, '$1"azurelinux3.1"'));
      assert.deepEqual(await bothModes(), ['linux-standalone-amd64']);
      await staging.edit(manifestFile, original.replace('"linux-tool-1.0-amd64"', '"linux-tool-1.0-renamed-amd64"'));
      assert.deepEqual(await bothModes(), ['linux-tool-1.0-renamed-amd64']);
    } finally {
      await staging.edit(manifestFile, original);
    }
  });

  it('a change to a file in a nested platform folder rebuilds only that platform, not the platform whose context holds the folder', async () => {
    // src/linux is linux-amd64's context and holds src/linux/standalone; its Dockerfile copies only root.txt.
    await staging.edit('src/linux/standalone/standalone.txt', 'standalone 2\n');
    const plan = JSON.parse((await staging.cli('plan', '--format', 'json', '--image-info', 'image-info.json', ...staging.stagingArgs)).stdout) as PlanJson;
    const standalone = plan.platforms.find((p) => p.id.endsWith(':linux-standalone-amd64'));
    assert.deepEqual(standalone?.reasons.map((r) => r.detail), ['build context changed: modified standalone.txt']);
    assert.deepEqual(await staging.build(), ['linux-standalone-amd64']);
    assert.equal((await runImage(staging.staged('linux-standalone-amd64'))).trim(), 'standalone 2');
    // And a file linux-amd64 copies rebuilds linux-amd64 alone, naming it.
    await staging.edit('src/linux/root.txt', 'linux root 2\n');
    assert.deepEqual(await staging.build(), ['linux-amd64']);
    assert.equal((await runImage(staging.staged('linux-amd64'))).trim(), 'builder 1\nlinux root 2');
  });

  it('a change to the builder rebuilds exactly its dependents, and each contains the new builder', async () => {
    await staging.edit('src/linux/builder/VERSION', 'builder 2\n');
    assert.deepEqual(await staging.build(), BUILT_ONCE(['linux-builder-amd64', ...BUILDER_DEPENDENTS]));
    assert.equal((await runImage(staging.staged('linux-amd64'))).trim(), 'builder 2\nlinux root 2');
    assert.equal((await runImage(staging.staged('linux-helix-amd64'))).trim(), 'builder 2\nbuilder 2\nhelix 1');
    assert.equal((await runImage(staging.staged('linux-tool-1.0-amd64'))).trim(), 'builder 2\ntool 1.0');
    assert.equal((await runImage(staging.staged('linux-tool-2.0-amd64'))).trim(), 'builder 2\ntool 2.0');
    assert.equal((await runImage(staging.staged('linux-tool-latest-amd64'))).trim(), 'builder 2\ntool 2.0');
  });
});
