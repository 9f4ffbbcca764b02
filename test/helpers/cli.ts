/**
 * Runs the imagewright CLI as a user would: a child process, real exit code, real stdout/stderr.
 * The TypeScript sources are bundled once per test process with esbuild (which tsx already brings),
 * so each run costs a Node start, not a TypeScript compile, and always reflects the current sources.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { bundleOptions } from '../../scripts/bundle-config.mjs';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let bundled: Promise<string> | undefined;

/** Path of the bundled CLI (built on first use; removed when the process exits). */
export function cliPath(): Promise<string> {
  bundled ??= (async () => {
    // Inside the repository, at the same depth as dist/cli/, so `../../schema` resolves as it does there.
    mkdirSync(join(repoRoot, '.work'), { recursive: true });
    const dir = mkdtempSync(join(repoRoot, '.work', 'cli-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const outfile = join(dir, 'imagewright.mjs');
    await build({ ...bundleOptions, outfile, logLevel: 'silent' });
    return outfile;
  })();
  return bundled;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Asserts that the run `what` exited 0 (the failure shows the end of its stderr); returns it. */
export function succeeded(result: CliResult, what: string): CliResult {
  assert.equal(result.code, 0, `${what} exited ${result.code}:\n${result.stderr.slice(-3000)}`);
  return result;
}

export interface CliOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

export async function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const cli = await cliPath();
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  return { code, stdout, stderr };
}
