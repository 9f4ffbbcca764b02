/**
 * End-to-end scenarios on the example repository (examples/prereqs) with the real engine and
 * registry: each workspace is a copy of the example in a temp dir, pushing under its own repo
 * prefix and reading base images under its own prefix. The CLI runs with IMAGEWRIGHT_DOCKER
 * pointing at a wrapper script that logs every Docker invocation, so a test can tell which
 * platforms were built and which were not.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliResult } from './cli.js';
import { cliPath, runCli } from './cli.js';
import { docker, ensureBaseImages, examplePrereqsDir, loadEngineEnv, uniqueRepoPrefix } from './engine.js';

/** The example's base images, as make-base-images.sh names them (without prefix). */
export const BASE_IMAGES = ['base/busybox:stable', 'ext/toolchain:1', 'ext/assets:1'] as const;

/** Every platform of the example, by its first tag, in the order the plan lists them. */
export const ALL_TAGS = [
  'builder-amd64',
  'llvm-amd64',
  'toolchain-amd64',
  'assets-amd64',
  'docs-amd64',
  'tools-amd64',
  'cross-arm64',
  'cross-arm',
  'cross-riscv64',
] as const;

export const IMAGE_INFO = 'image-info.json';

const ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

/** One Docker CLI invocation as the wrapper logged it. */
export interface DockerCall {
  pid: number;
  args: string[];
}

export interface PlanJson {
  platforms: Array<{
    id: string;
    decision: 'build' | 'reuse';
    tags: string[];
    newTags: string[];
    buildKey: string;
    reasons: Array<{ kind: string; detail: string; upstream?: string; modified?: string[]; args?: string[]; oldDigest?: string; newDigest?: string; ref?: string }>;
  }>;
}

export interface ImageInfoJson {
  schemaVersion: string;
  repos: Array<{
    repo: string;
    images: Array<{
      platforms: Array<{
        dockerfile: string;
        simpleTags: string[];
        digest: string;
        buildKey?: string;
        fromImages?: Array<{ stage: string; instruction: string; ref: string; digest: string; internal: boolean; buildKey?: string }>;
      }>;
    }>;
  }>;
}

export type PlatformJson = ImageInfoJson['repos'][number]['images'][number]['platforms'][number];

export class Workspace {
  private constructor(
    /** The example copy; the CLI runs here. */
    readonly dir: string,
    /** `iwtest/…/`: the CLI's --repo-prefix. */
    readonly repoPrefix: string,
    /** Where this workspace's base images live: `<registry>/<basePrefix>/base/busybox:stable`… */
    readonly basePrefix: string,
    private readonly snapshot: Map<string, string>,
  ) {}

  /**
   * A fresh copy of the example with its own base images: the `ext/` references, which the
   * Dockerfiles name literally, are rewritten to the workspace's base prefix.
   */
  static async create(label: string, options: { basePrefix?: string } = {}): Promise<Workspace> {
    const basePrefix = options.basePrefix ?? uniqueRepoPrefix(`${label}-base`);
    await ensureBaseImages(basePrefix);
    const dir = await mkdtemp(join(tmpdir(), `iw-e2e-${label}-`));
    await cp(examplePrereqsDir, dir, { recursive: true });
    const registry = loadEngineEnv().registry;
    for (const dockerfile of ['src/toolchain/amd64/Dockerfile', 'src/assets/amd64/Dockerfile']) {
      const text = await readFile(join(dir, dockerfile), 'utf8');
      const rewritten = text.replaceAll(`${registry}/ext/`, `${registry}/${basePrefix}/ext/`);
      assert.notEqual(rewritten, text, `${dockerfile} no longer names ${registry}/ext/ literally`);
      await writeFile(join(dir, dockerfile), rewritten);
    }
    const workspace = new Workspace(dir, `${uniqueRepoPrefix(label)}/`, basePrefix, new Map());
    await workspace.#writeWrapper();
    return workspace;
  }

  /**
   * A copy of this workspace's files and image-info that pushes to the same repositories. The
   * registry tags are remembered, and `dispose` puts them back, so that what one fork pushes
   * (or an upstream image it updates) does not leak into the next.
   */
  async fork(label: string): Promise<Workspace> {
    const dir = await mkdtemp(join(tmpdir(), `iw-e2e-${label}-`));
    await cp(this.dir, dir, { recursive: true });
    const refs = [...ALL_TAGS.map((t) => this.ref(t)), this.ref('toolchain-1.0-amd64'), ...BASE_IMAGES.map((b) => this.baseRef(b))];
    const snapshot = new Map<string, string>();
    for (const ref of refs) snapshot.set(ref, await registryDigest(ref));
    const fork = new Workspace(dir, this.repoPrefix, this.basePrefix, snapshot);
    await fork.clearLog();
    await fork.#writeWrapper();
    return fork;
  }

  /** Puts the registry tags back as they were at `fork` and removes the files. */
  async dispose(): Promise<void> {
    for (const [ref, digest] of this.snapshot) await restoreTag(ref, digest);
    await rm(this.dir, { recursive: true, force: true });
  }

  get logFile(): string {
    return join(this.dir, 'docker-calls.log');
  }

  get wrapper(): string {
    return join(this.dir, 'docker-wrapper.sh');
  }

  /** `--repo-prefix` and the base registry: every plan and build of this workspace needs them. */
  get commonArgs(): string[] {
    return ['--repo-prefix', this.repoPrefix, '--var', `BaseRegistry=${loadEngineEnv().registry}/${this.basePrefix}`];
  }

  get env(): NodeJS.ProcessEnv {
    return { DOCKER_HOST: loadEngineEnv().dockerHost, IMAGEWRIGHT_DOCKER: this.wrapper, DOCKER_BUILDKIT: '1' };
  }

  async #writeWrapper(): Promise<void> {
    const real = loadEngineEnv().docker;
    // One write per call (so parallel builds do not interleave), fields separated by \037.
    const script = [
      '#!/bin/sh',
      `record=$(printf '%s\\037' "$$" "$@")`,
      `printf '%s\\n' "$record" >> '${this.logFile}'`,
      `exec '${real}' "$@"`,
      '',
    ].join('\n');
    await writeFile(this.wrapper, script);
    await chmod(this.wrapper, 0o755);
  }

  /** Runs `imagewright <command> <args> <common args>` here. */
  cli(command: string, ...args: string[]): Promise<CliResult> {
    return runCli([command, ...args, ...this.commonArgs], { cwd: this.dir, env: this.env, timeoutMs: 5 * 60_000 });
  }

  async plan(...args: string[]): Promise<PlanJson> {
    const result = await this.cli('plan', '--format', 'json', ...args);
    assert.equal(result.code, 0, `plan failed:\n${result.stderr}`);
    return JSON.parse(result.stdout) as PlanJson;
  }

  /** Starts `build` as its own process group, so that a test can kill it and its Docker children at once. */
  async startBuild(...args: string[]): Promise<RunningCli> {
    const child = spawn(process.execPath, [await cliPath(), 'build', ...args, ...this.commonArgs], {
      cwd: this.dir,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    return new RunningCli(child);
  }

  /** The platform id (`prereqs:<tag>`: the manifest's name, whatever the repo prefix) of a tag. */
  id(tag: string): string {
    return `prereqs:${tag}`;
  }

  /** Where the tag is: under this workspace's repo prefix. */
  ref(tag: string): string {
    return `${loadEngineEnv().registry}/${this.repoPrefix}prereqs:${tag}`;
  }

  /** Where this workspace staged an image image-info records (`<registry>/prereqs@sha256:…`, ImageBuilder's form: no prefix). */
  staged(recordedDigest: string): string {
    const publicName = `${loadEngineEnv().registry}/prereqs@`;
    assert.ok(recordedDigest.startsWith(publicName), `image-info records ${recordedDigest}, not ${publicName}…`);
    return `${loadEngineEnv().registry}/${this.repoPrefix}prereqs@${recordedDigest.slice(publicName.length)}`;
  }

  /** The manifest's name for the tag (no prefix), as keys and image-info name internal images. */
  publicRef(tag: string): string {
    return `${loadEngineEnv().registry}/prereqs:${tag}`;
  }

  baseRef(image: string): string {
    return `${loadEngineEnv().registry}/${this.basePrefix}/${image}`;
  }

  async calls(): Promise<DockerCall[]> {
    if (!existsSync(this.logFile)) return [];
    const text = await readFile(this.logFile, 'utf8');
    return text
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => {
        const [pid, ...args] = line.split('\x1f').slice(0, -1);
        return { pid: Number(pid), args };
      });
  }

  /** The first tag of every platform `docker build` was run for, in the order the builds started. */
  async builtTags(): Promise<string[]> {
    return (await this.calls()).filter(isBuild).map((call) => {
      const at = call.args.indexOf('-t');
      const ref = call.args[at + 1] ?? '';
      return ref.slice(ref.lastIndexOf(':') + 1);
    });
  }

  async clearLog(): Promise<void> {
    await rm(this.logFile, { force: true });
  }

  /** Reads image-info, failing the test unless it is valid JSON in the ImageBuilder shape. */
  async imageInfo(): Promise<ImageInfoJson> {
    const text = await readFile(join(this.dir, IMAGE_INFO), 'utf8');
    let info: ImageInfoJson;
    try {
      info = JSON.parse(text) as ImageInfoJson;
    } catch (error) {
      assert.fail(`${IMAGE_INFO} is not valid JSON: ${String(error)}`);
    }
    assert.equal(info.schemaVersion, '2.0');
    assert.ok(Array.isArray(info.repos));
    return info;
  }

  /** Every platform record of image-info, by its first tag. */
  async records(): Promise<Map<string, PlatformJson>> {
    return recordsOf(await this.imageInfo());
  }

  assertNoLock(): void {
    assert.equal(existsSync(join(this.dir, `${IMAGE_INFO}.lock`)), false, 'a lock file was left behind');
  }

  async edit(file: string, change: (text: string) => string): Promise<void> {
    const path = join(this.dir, file);
    const text = await readFile(path, 'utf8');
    const changed = change(text);
    assert.notEqual(changed, text, `editing ${file} changed nothing`);
    await writeFile(path, changed);
  }

  async write(file: string, text: string): Promise<void> {
    await writeFile(join(this.dir, file), text);
  }
}

export function recordsOf(info: ImageInfoJson): Map<string, PlatformJson> {
  const records = new Map<string, PlatformJson>();
  for (const repo of info.repos) {
    for (const image of repo.images) {
      for (const platform of image.platforms) {
        const tag = ALL_TAGS.find((t) => platform.simpleTags.includes(t));
        assert.ok(tag, `image-info has a platform with unexpected tags ${platform.simpleTags.join(', ')}`);
        assert.ok(!records.has(tag), `image-info records ${tag} twice`);
        records.set(tag, platform);
      }
    }
  }
  return records;
}

function isBuild(call: DockerCall): boolean {
  return (call.args[0] === 'build' || (call.args[0] === 'buildx' && call.args[1] === 'build')) && !call.args.includes('--help');
}

/** A CLI run started in the background. */
export class RunningCli {
  stdout = '';
  stderr = '';
  /** Whether the process has ended. */
  ended = false;
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) =>
      child.on('close', (code) => {
        this.ended = true;
        resolve(code);
      }),
    );
  }

  /** SIGKILL the CLI and every process of its group (the Docker client it runs): no handler runs. */
  killGroup(): void {
    if (this.child.pid !== undefined) process.kill(-this.child.pid, 'SIGKILL');
  }
}

/** Split `<registry>/<repo>:<tag>` or `<registry>/<repo>@<digest>`. */
function splitRef(ref: string): { registry: string; repo: string; reference: string } {
  const slash = ref.indexOf('/');
  const rest = ref.slice(slash + 1);
  const at = rest.indexOf('@');
  const colon = at >= 0 ? at : rest.lastIndexOf(':');
  return { registry: ref.slice(0, slash), repo: rest.slice(0, colon), reference: rest.slice(colon + 1) };
}

/** The digest the registry reports for a reference (a HEAD request, independent of imagewright's client); '' on 404. */
export async function registryDigest(ref: string): Promise<string> {
  const { registry, repo, reference } = splitRef(ref);
  const response = await fetch(`http://${registry}/v2/${repo}/manifests/${reference}`, { method: 'HEAD', headers: { Accept: ACCEPT } });
  if (response.status === 404) return '';
  assert.equal(response.status, 200, `HEAD ${ref}: HTTP ${response.status}`);
  return response.headers.get('docker-content-digest') ?? '';
}

/** Points `ref`'s tag back at `digest` (same repository) when it moved. */
async function restoreTag(ref: string, digest: string): Promise<void> {
  if (!digest || (await registryDigest(ref)) === digest) return;
  const { registry, repo, reference } = splitRef(ref);
  const base = `http://${registry}/v2/${repo}/manifests`;
  const got = await fetch(`${base}/${digest}`, { headers: { Accept: ACCEPT } });
  assert.equal(got.status, 200, `GET ${repo}@${digest}: HTTP ${got.status}`);
  const body = Buffer.from(await got.arrayBuffer());
  const put = await fetch(`${base}/${reference}`, {
    method: 'PUT',
    headers: { 'Content-Type': got.headers.get('content-type') ?? '' },
    body,
  });
  assert.equal(put.status, 201, `PUT ${ref}: HTTP ${put.status}`);
}

/** What an image prints when run (every example image's default command shows its content). */
export async function runImage(ref: string): Promise<string> {
  return (await docker(['run', '--rm', ref])).stdout;
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
