/**
 * The adversarial suite's one way to run a hostile case: the real CLI in a fixture folder, with its
 * wall time and peak memory measured, and the folder compared before and after. Every case asserts
 * the exit code, a single stderr line naming the file and location, a time bound in seconds, a memory
 * bound, that no raw control character reached the terminal, and that nothing was written or lost.
 * docs/failure-classes.md lists the cases with their exit codes and bounds.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliPath } from './cli.js';

const preload = join(dirname(fileURLToPath(import.meta.url)), 'max-rss-preload.cjs');

export interface BoundedRun {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
  /** Peak resident memory of the CLI process, in MB. */
  maxRssMb: number;
  /** Killed for running past the time limit. */
  timedOut: boolean;
}

export interface RunOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Kill the CLI after this many seconds (a hang must fail the case, not the whole suite). */
  killAfterSeconds?: number;
}

/** Runs `imagewright <args>` as a child process, measuring wall time and peak RSS. */
export async function runMeasured(args: readonly string[], options: RunOptions): Promise<BoundedRun> {
  const cli = await cliPath();
  const scratch = mkdtempSync(join(tmpdir(), 'iw-rss-'));
  const rssFile = join(scratch, 'rss');
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, ['--require', preload, cli, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env, IMAGEWRIGHT_TEST_MAX_RSS_FILE: rssFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  let timedOut = false;
  const timer = setTimeout(
    () => {
      timedOut = true;
      child.kill('SIGKILL');
    },
    (options.killAfterSeconds ?? 120) * 1000,
  );
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  let maxRssMb = Number.NaN;
  try {
    maxRssMb = Number(readFileSync(rssFile, 'utf8')) / 1024;
  } catch {
    // Killed before it could say.
  }
  rmSync(scratch, { recursive: true, force: true });
  return { code, stdout, stderr, seconds, maxRssMb, timedOut };
}

/** Every entry under `root`: type, and for files the content's digest and mtime. Special files are not opened. */
export function snapshotTree(root: string): Map<string, string> {
  const into = new Map<string, string>();
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const key = path.slice(root.length + 1);
      const stat = lstatSync(path);
      if (entry.isDirectory()) {
        into.set(key, 'dir');
        visit(path);
      } else if (entry.isSymbolicLink()) {
        into.set(key, `link ${readlinkSync(path)}`);
      } else if (entry.isFile()) {
        into.set(key, `file ${stat.size} ${stat.mtimeMs} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`);
      } else {
        into.set(key, `special ${stat.mode}`);
      }
    }
  };
  visit(root);
  return into;
}

export interface Expected {
  /** Exit code. */
  code: number;
  /** The file the message names, as shown. */
  file: string;
  /** What follows the file name: its location (JSON path, line, option value). */
  location: RegExp;
  /** The problem, after the location. */
  problem?: RegExp;
  /** Wall-time bound in seconds (docs/failure-classes.md lists it). */
  seconds: number;
  /** Peak RSS bound in MB. */
  maxRssMb: number;
}

/** The bounds every case has, refused or not: exit code, time, memory, no raw control character out. */
export type Bounds = Pick<Expected, 'code' | 'seconds' | 'maxRssMb'>;

/** Asserts the run ended as `expected` says, within its bounds, and left `dir` exactly as `before`. */
export function assertBounded(run: BoundedRun, expected: Bounds, dir: string, before: Map<string, string>): void {
  const shown = `stderr:\n${run.stderr.slice(0, 2000)}`;
  assert.equal(run.timedOut, false, `still running after the kill limit (${run.seconds.toFixed(1)} s)`);
  assert.equal(run.code, expected.code, `exit code; ${shown}`);
  assert.ok(run.seconds <= expected.seconds, `took ${run.seconds.toFixed(1)} s, bound ${expected.seconds} s`);
  assert.ok(run.maxRssMb <= expected.maxRssMb, `peak memory ${run.maxRssMb.toFixed(0)} MB, bound ${expected.maxRssMb} MB`);
  assertNoRawControl(run.stdout, 'stdout');
  assertNoRawControl(run.stderr, 'stderr');
  assert.deepEqual(snapshotTree(dir), before, 'the folder changed: something was written or lost');
}

/** Asserts the run was refused as `expected` says and left `dir` exactly as `before`. */
export function assertRefused(run: BoundedRun, expected: Expected, dir: string, before: Map<string, string>): void {
  const shown = `stderr:\n${run.stderr.slice(0, 2000)}`;
  assertBounded(run, expected, dir, before);
  const lines = run.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('imagewright: warning:'));
  assert.equal(lines.length, 1, `one error line; ${shown}`);
  const line = lines[0] as string;
  const prefix = `imagewright: error: ${expected.file}: `;
  assert.ok(line.startsWith(prefix), `the message names ${expected.file}; ${shown}`);
  const rest = line.slice(prefix.length);
  assert.match(rest, new RegExp(`^(?:${expected.location.source})`), `the message names the location; ${shown}`);
  if (expected.problem) assert.match(rest, expected.problem);
  assert.ok(line.length <= 1100, `a one-line message of reasonable length, got ${line.length} characters`);
}

/** No NUL, escape or other C0/C1 control character but newline and tab. */
export function assertNoRawControl(text: string, channel: string): void {
  // eslint-disable-next-line no-control-regex
  const found = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.exec(text);
  assert.equal(found, null, `${channel} carries a raw control character U+${found?.[0].charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A fixture folder from `files` (path → text or JSON value); removed by the caller. */
export async function fixture(files: Record<string, string | Buffer | object>): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'iw-adv-'));
  for (const [path, content] of Object.entries(files)) {
    const abs = join(dir, path);
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(abs, typeof content === 'string' || Buffer.isBuffer(content) ? content : `${JSON.stringify(content, null, 2)}\n`);
  }
  return dir;
}

/** The smallest manifest: repo `team/app`, one platform building `app/Dockerfile`. */
export function oneImageManifest(extra: { platform?: object; manifest?: object } = {}): object {
  return {
    registry: '127.0.0.1:5000',
    ...extra.manifest,
    repos: [
      {
        name: 'team/app',
        images: [{ platforms: [{ dockerfile: 'app', os: 'linux', osVersion: 'bookworm', tags: { '1': {} }, ...extra.platform }] }],
      },
    ],
  };
}
