/**
 * What the benchmark scripts share: reading `--name value` arguments, and timing a child process while
 * collecting its output (the wall time is measured around the whole child, start-up included).
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/** The value after `name` on the command line, if given. */
export function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

export interface TimedChild {
  ms: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `process.execPath args` to its end; asynchronous, so a proxy or registry in this process keeps serving. */
export async function runTimedNode(args: readonly string[], options: Pick<SpawnOptions, 'cwd' | 'env'> = {}): Promise<TimedChild> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { ms: performance.now() - started, code, stdout, stderr };
}
