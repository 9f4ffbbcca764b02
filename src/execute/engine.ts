/**
 * The container engine as the build executor sees it, and its implementation through the Docker
 * CLI. Builds must run on BuildKit (RUN --mount, # syntax=, per-Dockerfile ignore files), so the
 * CLI is picked by what it can do, not by its name: `docker buildx build` where the buildx plugin
 * exists, else `DOCKER_BUILDKIT=1 docker build` on clients whose classic build still embeds
 * BuildKit. A client that could only run the legacy builder is refused.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryError } from '../errors.js';
import { canonicalPlatform, parsePlatform } from '../platform.js';
import type { TargetPlatform } from '../platform.js';
import { displayArgv, revealArgv, SecretValue, type Arg, type BuildSecret } from '../secret.js';

/** Where build and push output goes (a log file). */
export interface LogSink {
  write(chunk: string | Uint8Array): unknown;
}

export interface BuildRequest {
  contextDir: string;
  /** The Dockerfile to build; may live outside the context. */
  dockerfile: string;
  /** Fully qualified tags the image gets locally. */
  tags: string[];
  /** `linux/amd64` form. */
  platform: string;
  /** Every value is shown masked in the log: the manifest's, and (as SecretValue) the command line's. */
  buildArgs: Record<string, string | SecretValue>;
  /** `--secret`s: their specifications go on the command line, their values are masked in the log. */
  secrets?: readonly BuildSecret[];
  labels: Record<string, string>;
  /** Images whose inline cache may serve layers. */
  cacheFrom: string[];
  /** Embed cache metadata in the image so later builds can use it as `cacheFrom`. */
  inlineCache: boolean;
  noCache: boolean;
  log: LogSink;
}

export interface Engine {
  /** What runs the builds, for the run's header, e.g. `/usr/bin/docker 20.10.24 (DOCKER_BUILDKIT=1 docker build)`. */
  readonly description: string;
  /** Build and tag an image; resolves to the local image id (`sha256:…`). */
  build(request: BuildRequest): Promise<{ imageId: string }>;
  /** Push one tag. `digest` is what the CLI printed, when it did: a cross-check, not the record. */
  push(ref: string, log: LogSink): Promise<{ digest?: string }>;
}

/** The engine failed a build or push; the log holds the details. */
export class EngineError extends Error {
  constructor(
    message: string,
    /** The CLI's exit status, or undefined when it could not be started. */
    readonly status?: number,
    /** The last line the CLI wrote to stderr (secrets masked), e.g. the registry's refusal. */
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

/** No Docker CLI here can build with BuildKit. */
export class EngineUnavailableError extends Error {
  readonly exitCode = 1;
  constructor(readonly findings: string[]) {
    super(
      `no Docker CLI that can build with BuildKit (needed for RUN --mount): ${findings.join('; ')}. ` +
        'Install the docker-buildx plugin, or point IMAGEWRIGHT_DOCKER at a docker client that runs BuildKit with DOCKER_BUILDKIT=1',
    );
    this.name = 'EngineUnavailableError';
  }
}

/** How the CLI reaches BuildKit. */
export type BuildFlavor = 'buildx' | 'buildkit-env';

export interface DockerCli {
  /** The command, as found: a path or `docker` (looked up on PATH). */
  command: string;
  flavor: BuildFlavor;
  /** Client version, '' when it did not say. */
  version: string;
}

export interface ProbeResult {
  /** Exit status; undefined when the command could not be started (e.g. not installed). */
  status: number | undefined;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; detection goes through it so tests can replace it. */
export type Probe = (command: string, args: string[], env: NodeJS.ProcessEnv) => Promise<ProbeResult>;

export interface DetectOptions {
  env?: NodeJS.ProcessEnv;
  probe?: Probe;
}

/** The CLIs tried, in order: $IMAGEWRIGHT_DOCKER, `docker` on PATH, /usr/bin/docker. */
export function dockerCandidates(env: NodeJS.ProcessEnv): string[] {
  const candidates = [env.IMAGEWRIGHT_DOCKER?.trim(), 'docker', '/usr/bin/docker'].filter((c): c is string => !!c);
  return [...new Set(candidates)];
}

/** The first candidate CLI that can build with BuildKit; throws EngineUnavailableError with what each one lacked. */
export async function detectDockerCli(options: DetectOptions = {}): Promise<DockerCli> {
  const env = options.env ?? process.env;
  const probe = options.probe ?? runProbe;
  const findings: string[] = [];
  for (const command of dockerCandidates(env)) {
    // The probes of one client run at once: each is a process start, and they are on the way of the first build.
    const versionAnswer = clientVersion(command, env, probe);
    // Clients from 23.0 on refuse DOCKER_BUILDKIT=1 without buildx; older ones run their embedded BuildKit.
    const classicAnswer = probe(command, ['build', '--help'], { ...env, DOCKER_BUILDKIT: '1' });
    const buildx = await probe(command, ['buildx', 'version'], env);
    const [version, classic] = await Promise.all([versionAnswer, classicAnswer]);
    if (buildx.status === undefined) {
      findings.push(`${command}: not found`);
      continue;
    }
    const label = version ? `${command} ${version}` : command;
    if (buildx.status === 0) return { command, flavor: 'buildx', version };
    if (classic.status === 0) return { command, flavor: 'buildkit-env', version };
    findings.push(`${label} has no buildx plugin and its docker build would use the legacy builder`);
  }
  throw new EngineUnavailableError(findings);
}

/**
 * One `docker version` says both the client's version and, when a daemon answers, the engine's
 * platform: detection and BUILDPLATFORM ask the same question, so a run with onceProbe asks it once.
 * The client part is printed even when the daemon is unreachable (and the CLI then exits non-zero).
 */
const VERSION_ARGS = ['version', '--format', '{{.Client.Version}}|{{if .Server}}{{.Server.Os}}/{{.Server.Arch}}{{end}}'];

async function dockerVersion(command: string, env: NodeJS.ProcessEnv, probe: Probe): Promise<{ status: number | undefined; client: string; server: string }> {
  const answer = await probe(command, [...VERSION_ARGS], env);
  const [client = '', server = ''] = (answer.stdout.trim().split('\n')[0] ?? '').split('|');
  return { status: answer.status, client: client.trim(), server: server.trim() };
}

async function clientVersion(command: string, env: NodeJS.ProcessEnv, probe: Probe): Promise<string> {
  return (await dockerVersion(command, env, probe)).client;
}

/** A probe that runs each command line once per environment object, however often it is asked: one run's probes. */
export function onceProbe(probe: Probe = runProbe): Probe {
  const answers = new WeakMap<NodeJS.ProcessEnv, Map<string, Promise<ProbeResult>>>();
  return (command, args, env) => {
    let inEnv = answers.get(env);
    if (!inEnv) {
      inEnv = new Map();
      answers.set(env, inEnv);
    }
    const key = JSON.stringify([command, ...args]);
    let answer = inEnv.get(key);
    if (!answer) {
      answer = probe(command, args, env);
      inEnv.set(key, answer);
    }
    return answer;
  };
}

export interface DockerEngineOptions extends DetectOptions {
  /** Use this CLI instead of detecting one. */
  cli?: DockerCli;
}

/**
 * The engine's own platform (BuildKit's BUILDPLATFORM), as the daemon reports it: `docker version`'s
 * server OS and architecture, normalized (`linux/amd64`, `linux/arm64`, `windows/amd64`). undefined
 * when no Docker CLI here reaches a daemon.
 */
export async function readEnginePlatform(options: DetectOptions = {}): Promise<TargetPlatform | undefined> {
  const env = options.env ?? process.env;
  const probe = options.probe ?? runProbe;
  for (const command of dockerCandidates(env)) {
    const answer = await dockerVersion(command, env, probe);
    if (answer.status !== 0) continue;
    const platform = parsePlatform(answer.server);
    if (platform) return canonicalPlatform(platform);
  }
  return undefined;
}

/** Detect the CLI and wrap it. */
export async function createDockerEngine(options: DockerEngineOptions = {}): Promise<DockerCliEngine> {
  const cli = options.cli ?? (await detectDockerCli(options));
  return new DockerCliEngine(cli, options.env ?? process.env);
}

export class DockerCliEngine implements Engine {
  readonly description: string;
  readonly #env: NodeJS.ProcessEnv;

  constructor(
    readonly cli: DockerCli,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    // DOCKER_HOST, DOCKER_CONFIG, DOCKER_CONTEXT... pass through unchanged. Default attestations would
    // turn a pushed image into an index, whose digest is not the platform image's.
    this.#env = cli.flavor === 'buildkit-env' ? { ...env, DOCKER_BUILDKIT: '1' } : { ...env, BUILDX_NO_DEFAULT_ATTESTATIONS: '1' };
    const how = cli.flavor === 'buildx' ? 'docker buildx build' : 'DOCKER_BUILDKIT=1 docker build';
    this.description = `${cli.command}${cli.version ? ` ${cli.version}` : ''} (${how})`;
  }

  async build(request: BuildRequest): Promise<{ imageId: string }> {
    const scratch = await mkdtemp(join(tmpdir(), 'imagewright-iid-'));
    const iidFile = join(scratch, 'iid');
    try {
      const env = { ...this.#env, ...revealEnv(this.buildEnv(request)) };
      await runLogged(this.cli.command, this.buildArgv(request, iidFile), env, request.log, 'docker build', this.outputSecrets(request));
      const imageId = (await readFile(iidFile, 'utf8').catch(() => '')).trim();
      if (!imageId) throw new EngineError('docker build finished without reporting an image id');
      return { imageId };
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  async push(ref: string, log: LogSink): Promise<{ digest?: string }> {
    const output = await runLogged(this.cli.command, ['push', ref], this.#env, log, `docker push ${ref}`).catch((error: unknown) => {
      // The registry refused, failed or is gone (the engine's words say which): a registry error, exit 3.
      if (error instanceof EngineError) throw new RegistryError(`${error.message}${error.detail ? `: ${error.detail}` : ''}`);
      throw error;
    });
    const digest = /digest: (sha256:[a-f0-9]{64})/.exec(output)?.[1];
    return digest ? { digest } : {};
  }

  /**
   * The CLI arguments of a build: the one place they are put together. Build-arg values enter as
   * SecretValues, so the log shows `NAME=***` and only spawn sees the value. A command-line value goes
   * by the environment instead (`--build-arg NAME`, which docker reads from its own environment, see
   * buildEnv): an argument is readable by every user of the machine in /proc/<pid>/cmdline.
   */
  buildArgv(request: BuildRequest, iidFile: string): Arg[] {
    const args: Arg[] = this.cli.flavor === 'buildx' ? ['buildx', 'build', '--load'] : ['build'];
    args.push('--progress=plain', '--platform', request.platform, '-f', request.dockerfile, '--iidfile', iidFile);
    for (const tag of request.tags) args.push('-t', tag);
    const byEnvironment = this.buildEnv(request);
    for (const [name, value] of Object.entries(request.buildArgs)) {
      if (Object.hasOwn(byEnvironment, name)) args.push('--build-arg', name);
      else args.push('--build-arg', (typeof value === 'string' ? new SecretValue(value) : value).withPrefix(`${name}=`));
    }
    for (const secret of request.secrets ?? []) args.push('--secret', secret.spec);
    if (request.inlineCache) {
      args.push('--build-arg', 'BUILDKIT_INLINE_CACHE=1');
      if (this.cli.flavor === 'buildx') args.push('--cache-to', 'type=inline');
    }
    for (const [name, value] of Object.entries(request.labels)) args.push('--label', `${name}=${value}`);
    for (const ref of request.cacheFrom) args.push('--cache-from', ref);
    if (request.noCache) args.push('--no-cache');
    args.push(request.contextDir);
    return args;
  }

  /**
   * The command line's build args that reach docker through its environment rather than its argv:
   * all but those whose name docker itself reads (DOCKER_*, PATH, proxies...), which stay arguments.
   */
  buildEnv(request: BuildRequest): Record<string, SecretValue> {
    const env: Record<string, SecretValue> = {};
    for (const [name, value] of Object.entries(request.buildArgs)) {
      if (value instanceof SecretValue && passableByEnvironment(name)) env[name] = value;
    }
    return env;
  }

  /**
   * What the build's output must not show: the command line's build-arg values (BuildKit prints a
   * RUN step with them expanded) and the secrets' values (a RUN may print one). The manifest's build
   * args are public.
   */
  outputSecrets(request: BuildRequest): SecretValue[] {
    const commandLine = Object.values(request.buildArgs).filter((value): value is SecretValue => value instanceof SecretValue);
    return [...commandLine, ...(request.secrets ?? []).map((secret) => secret.value)];
  }
}

/**
 * Run to completion with output to the log, after the command line (secrets masked); resolves to
 * stdout (kept for parsing), rejects with EngineError.
 */
function runLogged(
  command: string,
  argv: readonly Arg[],
  env: NodeJS.ProcessEnv,
  log: LogSink,
  what: string,
  secrets: readonly SecretValue[] = [],
): Promise<string> {
  log.write(`$ ${displayArgv([command, ...argv])}\n`);
  return new Promise((resolve, reject) => {
    let child;
    try {
      child = spawn(command, revealArgv(argv), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      // Node's own message would quote the offending argument, secret or not.
      const code = (error as NodeJS.ErrnoException).code ?? 'an invalid argument';
      reject(new EngineError(`${what}: cannot run ${command}: ${code}`));
      return;
    }
    let stdout = '';
    // Each stream masked on its own: a value split between two chunks of one stream is still found.
    const masks = [SecretValue.outputMask(secrets), SecretValue.outputMask(secrets)] as const;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const text = masks[0].write(chunk);
      if (stdout.length < 1 << 20) stdout += text;
      log.write(text);
    });
    let stderrTail = '';
    child.stderr.on('data', (chunk: string) => {
      const text = masks[1].write(chunk);
      stderrTail = (stderrTail + text).slice(-4096);
      log.write(text);
    });
    child.on('error', (error: NodeJS.ErrnoException) => reject(new EngineError(`${what}: cannot run ${command}: ${error.code ?? error.message}`)));
    child.on('close', (status, signal) => {
      const rest = masks[0].end();
      stdout += rest;
      const errRest = masks[1].end();
      log.write(rest + errRest);
      if (status === 0) resolve(stdout);
      else {
        const detail = lastLine(stderrTail + errRest);
        reject(new EngineError(`${what} failed (${signal ? `signal ${signal}` : `exit status ${status}`})`, status ?? undefined, detail));
      }
    });
  });
}

/**
 * Environment variables that change how the docker CLI or buildx runs (where the engine is, its
 * config, proxies, Git and SSH for remote contexts, tracing, the Go runtime, the dynamic linker, the
 * Windows profile folders...): a build arg of that name is not put there, and stays an argument.
 */
const DOCKER_READS =
  /^(?:DOCKER_.*|BUILDX_.*|BUILDKIT_.*|EXPERIMENTAL_.*|COMPOSE_.*|OTEL_.*|GIT_.*|SSH_.*|GO.*|LD_.*|DYLD_.*|XDG_.*|LC_.*|SSL_.*|.*_PROXY|PATH|PATHEXT|HOME|USERPROFILE|APPDATA|LOCALAPPDATA|PROGRAMDATA|SYSTEMROOT|WINDIR|COMSPEC|TMPDIR|TMP|TEMP|USER|SHELL|LANG|TERM|PWD|NO_COLOR)$/i;

function passableByEnvironment(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !DOCKER_READS.test(name);
}

function revealEnv(env: Record<string, SecretValue>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([name, value]) => [name, value.reveal()]));
}

function lastLine(text: string): string | undefined {
  const lines = text.split('\n').map((line) => line.trim()).filter(Boolean);
  return lines[lines.length - 1]?.slice(0, 500);
}

/** The real probe: spawn without a shell, collect output, never reject. */
export function runProbe(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', () => resolve({ status: undefined, stdout, stderr }));
    child.on('close', (status) => resolve({ status: status ?? 1, stdout, stderr }));
  });
}
