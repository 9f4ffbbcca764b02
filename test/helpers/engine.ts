/**
 * Access to the Docker engine and registry that scripts/setup-engine.sh starts, for integration tests.
 * Tests that need them fail (never skip) when the engine was not set up, so a green run means they ran.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface EngineEnv {
  /** e.g. `unix:///run/imagewright/docker.sock`. */
  dockerHost: string;
  /** Path of the Docker client that runs BuildKit builds. */
  docker: string;
  /** Loopback registry address, e.g. `127.0.0.1:5000`. */
  registry: string;
}

export interface DockerOptions {
  cwd?: string;
  /** Added to the environment after DOCKER_HOST and DOCKER_BUILDKIT. */
  env?: Record<string, string>;
  /** Written to the command's standard input. */
  input?: string | Buffer;
  /** Return a failed command's result instead of throwing. */
  allowFailure?: boolean;
  /** Default 5 minutes. */
  timeoutMs?: number;
}

export interface DockerResult {
  /** Exit code; -1 when the command was killed or could not start. */
  code: number;
  stdout: string;
  stderr: string;
}

/** The repository root (two levels above this file). */
export const repoRoot: string = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The bundled example repository. */
export const examplePrereqsDir: string = path.join(repoRoot, 'examples', 'prereqs');

export function engineEnvPath(): string {
  return process.env.IMAGEWRIGHT_ENGINE_ENV ?? path.join(repoRoot, '.work', 'engine.env');
}

/** Parses `export NAME=value` lines (value optionally quoted); ignores comments and blank lines. */
export function parseEnvFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(raw);
    if (!match) continue;
    const [, name, rawValue] = match;
    if (name === undefined || rawValue === undefined) continue;
    values[name] = unquote(rawValue.trim());
  }
  return values;
}

function unquote(value: string): string {
  const quoted = /^'(.*)'$/.exec(value) ?? /^"(.*)"$/.exec(value);
  return quoted?.[1] ?? value;
}

let cachedEnv: EngineEnv | undefined;

/** Reads `.work/engine.env`; throws with the command to run when it is absent or incomplete. */
export function loadEngineEnv(): EngineEnv {
  if (cachedEnv) return cachedEnv;
  const file = engineEnvPath();
  if (!existsSync(file)) {
    throw new Error(`${file} not found: run scripts/setup-engine.sh first (as root) to start the engine and registry`);
  }
  const values = parseEnvFile(readFileSync(file, 'utf8'));
  const dockerHost = values.DOCKER_HOST;
  const docker = values.IMAGEWRIGHT_DOCKER;
  const registry = values.IMAGEWRIGHT_REGISTRY;
  if (!dockerHost || !docker || !registry) {
    throw new Error(
      `${file} lacks DOCKER_HOST, IMAGEWRIGHT_DOCKER or IMAGEWRIGHT_REGISTRY: run scripts/setup-engine.sh first`,
    );
  }
  cachedEnv = { dockerHost, docker, registry };
  return cachedEnv;
}

/** The environment a child process needs to reach the engine with BuildKit. */
export function engineProcessEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const engine = loadEngineEnv();
  return { ...process.env, DOCKER_HOST: engine.dockerHost, DOCKER_BUILDKIT: '1', ...extra };
}

/** Runs the chosen Docker client against the engine; throws on a non-zero exit unless `allowFailure`. */
export function docker(args: readonly string[], opts: DockerOptions = {}): Promise<DockerResult> {
  return run(loadEngineEnv().docker, args, opts);
}

/** Runs any command with the engine's environment (e.g. scripts/make-base-images.sh). */
export function run(command: string, args: readonly string[], opts: DockerOptions = {}): Promise<DockerResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      [...args],
      {
        cwd: opts.cwd,
        env: engineProcessEnv(opts.env),
        timeout: opts.timeoutMs ?? 5 * 60_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        const result: DockerResult = { code, stdout, stderr };
        if (code !== 0 && !opts.allowFailure) {
          const tail = stderr.trim().split('\n').slice(-15).join('\n');
          reject(new Error(`${path.basename(command)} ${args.join(' ')} exited with ${code}:\n${tail}`));
          return;
        }
        resolve(result);
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

let prefixCounter = 0;

/**
 * A repository path prefix no other test run uses, e.g. `iwtest/manifest-l2x9k3-4f1a-1`, for pushing to the
 * shared registry as `<registry>/<prefix>/<repo>`. Valid as a distribution repository path component.
 */
export function uniqueRepoPrefix(label = 't'): string {
  const safeLabel = label.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 't';
  prefixCounter += 1;
  const stamp = Date.now().toString(36);
  const random = randomBytes(3).toString('hex');
  return `iwtest/${safeLabel}-${stamp}-${process.pid.toString(36)}${random}-${prefixCounter}`;
}

/**
 * Makes sure the base images the example reads exist (pushing any that are missing), optionally under a
 * prefix so the test may later update them with `updateBaseImage` without disturbing other tests.
 */
export async function ensureBaseImages(prefix?: string): Promise<void> {
  await run('bash', [path.join(repoRoot, 'scripts', 'make-base-images.sh'), ...(prefix ? ['--prefix', prefix] : [])]);
}

/** Pushes new content (variant N) for one upstream image, e.g. `ext/toolchain`; returns the script's output. */
export async function updateBaseImage(image: string, variant: number, prefix?: string): Promise<string> {
  const args = [path.join(repoRoot, 'scripts', 'make-base-images.sh'), '--update', image, '--variant', String(variant)];
  if (prefix) args.push('--prefix', prefix);
  return (await run('bash', args)).stdout;
}

/** A file's content inside a local image, read without running it (so an image of any architecture will do). */
export async function fileInImage(image: string, file: string): Promise<string> {
  const container = (await docker(['create', image, '/x'])).stdout.trim();
  const dir = await mkdtemp(path.join(tmpdir(), 'iw-cp-'));
  try {
    await docker(['cp', `${container}:${file}`, path.join(dir, 'out')]);
    return await readFile(path.join(dir, 'out'), 'utf8');
  } finally {
    await docker(['rm', container], { allowFailure: true });
    await rm(dir, { recursive: true, force: true });
  }
}
