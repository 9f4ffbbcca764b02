/**
 * What the user sees during a build run, in the modes docker buildx offers (`--progress`):
 * - `tty`: one live block, redrawn in place and never taller than the terminal: running platforms
 *   with their elapsed time and the tail of their current log line, counts of done, failed and
 *   queued. Errors print above it as they happen; at the end the block gives way to a summary of
 *   every platform that did something.
 * - `plain`: one timestamped line per event (CI logs). Under GitHub Actions each platform's build
 *   log follows in a collapsed `::group::`, with workflow commands stopped inside it.
 * - `quiet`: errors and the summary line.
 * - `auto`: `tty` when the stream is a terminal and TERM is not `dumb`, else `plain`.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { digestOfReference } from '../digest.js';
import { escapeControl } from '../paths.js';
import type { PlatformPlan } from '../plan/types.js';
import type { SkipReason } from './scheduler.js';
import type { BuildRunResult, IndexOutcome, PlatformFailure, PlatformOutcome, PlatformSkip } from './types.js';

export interface BuildProgress {
  /** The platforms of the run, before any starts (for the queued count). */
  begin?(platforms: readonly PlatformPlan[]): void;
  started(plan: PlatformPlan, what: string): void;
  /** Build or push output of a platform, as the engine writes it to its log. */
  output?(plan: PlatformPlan, chunk: string | Uint8Array): void;
  finished(plan: PlatformPlan, outcome: PlatformOutcome): void;
  failed(plan: PlatformPlan, failure: PlatformFailure): void;
  skipped(plan: PlatformPlan, skip: PlatformSkip): void;
  index(outcome: IndexOutcome): void;
  /** The summary; stops any redrawing. */
  done(result: BuildRunResult): void;
}

export type ProgressMode = 'auto' | 'tty' | 'plain' | 'quiet';
export const PROGRESS_MODES: readonly ProgressMode[] = ['auto', 'tty', 'plain', 'quiet'];

export interface ProgressOptions {
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };
  /** Default `auto`. */
  mode?: ProgressMode;
  /** TERM and GITHUB_ACTIONS are read from here; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Lines of a failed build's log to show. Default 20. */
  tailLines?: number;
  now?: () => number;
  /** Milliseconds between redraws of the live block. Default 250. */
  redrawMs?: number;
}

export function createProgress(options: ProgressOptions): BuildProgress {
  const env = options.env ?? process.env;
  const mode = options.mode ?? 'auto';
  const tty = mode === 'tty' || (mode === 'auto' && options.stream.isTTY === true && env.TERM !== 'dumb');
  if (tty) return new TtyProgress(options);
  if (mode === 'quiet') return new QuietProgress(options);
  return new PlainProgress(options, env.GITHUB_ACTIONS === 'true');
}

/** A progress that prints nothing (tests). */
export const silentProgress: BuildProgress = {
  started() {},
  finished() {},
  failed() {},
  skipped() {},
  index() {},
  done() {},
};

/** One line per event, each with the time since the run began. */
class PlainProgress implements BuildProgress {
  readonly #stream: ProgressOptions['stream'];
  readonly #tailLines: number;
  readonly #now: () => number;
  readonly #start: number;

  constructor(
    options: ProgressOptions,
    private readonly githubGroups = false,
  ) {
    this.#stream = options.stream;
    this.#tailLines = options.tailLines ?? 20;
    this.#now = options.now ?? Date.now;
    this.#start = this.#now();
  }

  started(plan: PlatformPlan, what: string): void {
    this.#print(`start   ${plan.id}: ${what}`);
  }

  finished(plan: PlatformPlan, outcome: PlatformOutcome): void {
    this.#print(finishedLine(plan, outcome));
    if (outcome.action === 'built' && outcome.logFile) this.#group(`${plan.id} build log`, outcome.logFile);
  }

  failed(plan: PlatformPlan, failure: PlatformFailure): void {
    this.#print(failureLines(failure, this.#tailLines));
    if (failure.logFile) this.#group(`${plan.id} build log (failed)`, failure.logFile);
  }

  skipped(plan: PlatformPlan, skip: PlatformSkip): void {
    this.#print(`skipped ${plan.id}: ${skipText(skip.reason)}`);
  }

  index(outcome: IndexOutcome): void {
    this.#print(indexLine(outcome));
  }

  done(result: BuildRunResult): void {
    this.#print(summaryLine(result));
  }

  #print(text: string): void {
    const stamp = `[${formatDuration(this.#now() - this.#start).padStart(7)}]`;
    this.#stream.write(`${text.split('\n').map((line) => `${stamp} ${line}`).join('\n')}\n`);
  }

  /**
   * The whole log, collapsed, on GitHub Actions. A build log is the Dockerfile author's text: workflow
   * commands in it (`::add-mask::`, `::endgroup::`...) are stopped for its duration.
   */
  #group(title: string, logFile: string): void {
    if (!this.githubGroups) return;
    const text = readLogEnd(logFile, 1 << 20);
    const token = randomBytes(16).toString('hex');
    this.#stream.write(`::group::${oneLineText(title)}\n::stop-commands::${token}\n${text}${text.endsWith('\n') || !text ? '' : '\n'}::${token}::\n::endgroup::\n`);
  }
}

/** Errors as they happen, and the summary line. */
class QuietProgress implements BuildProgress {
  readonly #stream: ProgressOptions['stream'];
  readonly #tailLines: number;

  constructor(options: ProgressOptions) {
    this.#stream = options.stream;
    this.#tailLines = options.tailLines ?? 20;
  }

  started(): void {}
  finished(): void {}
  skipped(): void {}

  failed(_plan: PlatformPlan, failure: PlatformFailure): void {
    this.#stream.write(`${failureLines(failure, this.#tailLines)}\n`);
  }

  index(outcome: IndexOutcome): void {
    if (outcome.problem) this.#stream.write(`${indexLine(outcome)}\n`);
  }

  done(result: BuildRunResult): void {
    this.#stream.write(`${summaryLine(result)}\n`);
  }
}

interface Running {
  since: number;
  /** The last line of output, control characters removed. */
  tail: string;
  /** Output after the last newline, not yet a whole line. */
  partial: string;
}

/** The live block of a terminal, bounded by its height; a summary at the end. */
class TtyProgress implements BuildProgress {
  readonly #stream: ProgressOptions['stream'];
  readonly #tailLines: number;
  readonly #now: () => number;
  readonly #start: number;
  readonly #redrawMs: number;
  readonly #running = new Map<string, Running>();
  /** Lines of the finished platforms that did something, for the summary. */
  readonly #results: string[] = [];
  #total = 0;
  #done = 0;
  #failed = 0;
  #skipped = 0;
  #drawn = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: ProgressOptions) {
    this.#stream = options.stream;
    this.#tailLines = options.tailLines ?? 20;
    this.#now = options.now ?? Date.now;
    this.#start = this.#now();
    this.#redrawMs = options.redrawMs ?? 250;
  }

  begin(platforms: readonly PlatformPlan[]): void {
    this.#total = platforms.length;
    this.#timer ??= setInterval(() => this.#redraw(), this.#redrawMs).unref();
    this.#redraw();
  }

  started(plan: PlatformPlan, what: string): void {
    this.#running.set(plan.id, { since: this.#now(), tail: what, partial: '' });
    this.#redraw();
  }

  output(plan: PlatformPlan, chunk: string | Uint8Array): void {
    const running = this.#running.get(plan.id);
    if (!running) return;
    const text = running.partial + (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const lines = text.split('\n');
    running.partial = (lines.pop() ?? '').slice(-4096);
    const last = lines.map(oneLineText).filter((l) => l).at(-1);
    if (last) running.tail = last;
  }

  finished(plan: PlatformPlan, outcome: PlatformOutcome): void {
    this.#running.delete(plan.id);
    this.#done++;
    if (outcome.action !== 'reused') this.#results.push(finishedLine(plan, outcome));
  }

  failed(plan: PlatformPlan, failure: PlatformFailure): void {
    this.#running.delete(plan.id);
    this.#failed++;
    this.#print(failureLines(failure, this.#tailLines));
  }

  skipped(plan: PlatformPlan, skip: PlatformSkip): void {
    this.#skipped++;
    this.#results.push(`skipped ${plan.id}: ${skipText(skip.reason)}`);
  }

  index(outcome: IndexOutcome): void {
    this.#results.push(indexLine(outcome));
  }

  done(result: BuildRunResult): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#running.clear();
    this.#stream.write(`${this.#erase()}${[...this.#results, summaryLine(result)].map((l) => `${l}\n`).join('')}`);
  }

  /** Permanent lines go above the live block, which is then drawn again. */
  #print(text: string): void {
    this.#stream.write(`${this.#erase()}${text}\n${this.#block()}`);
  }

  #redraw(): void {
    this.#stream.write(`${this.#erase()}${this.#block()}`);
  }

  #erase(): string {
    const up = this.#drawn > 0 ? `\x1b[${this.#drawn}F` : '\r';
    this.#drawn = 0;
    return `${up}\x1b[J`;
  }

  /**
   * At most rows - 1 lines, each shorter than the terminal is wide, so nothing wraps or scrolls and
   * the cursor can always climb back to the block's first line.
   */
  #block(): string {
    const width = Math.max(20, (this.#stream.columns ?? 80) - 1);
    const height = Math.max(2, (this.#stream.rows ?? 24) - 1);
    const now = this.#now();
    const queued = Math.max(0, this.#total - this.#done - this.#failed - this.#skipped - this.#running.size);
    const header = `[+] building ${formatDuration(now - this.#start)}: ${this.#done} done, ${this.#failed} failed, ${queued} queued, ${this.#running.size} running`;
    const running = [...this.#running].sort((a, b) => a[1].since - b[1].since);
    const room = height - 1;
    const shown = running.length > room ? running.slice(0, room - 1) : running;
    const idWidth = Math.min(40, Math.max(0, ...shown.map(([id]) => id.length)));
    const lines = [
      header,
      ...shown.map(([id, r]) => ` => ${id.padEnd(idWidth)} ${formatDuration(now - r.since).padStart(6)}  ${r.tail}`),
      ...(running.length > shown.length ? [`    … and ${running.length - shown.length} more running`] : []),
    ].map((line) => (line.length > width ? `${line.slice(0, width - 1)}…` : line));
    this.#drawn = lines.length;
    return lines.map((l) => `${l}\n`).join('');
  }
}

/** Text fit for one terminal line: what follows the last carriage return, without escape sequences or control characters. */
function oneLineText(text: string): string {
  const afterReturn = text.slice(text.lastIndexOf('\r') + 1);
  // eslint-disable-next-line no-control-regex
  return afterReturn.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b.?/g, '').replace(/[\x00-\x1f\x7f]/g, '').trim();
}

/** The last `max` bytes of a log file ('' when it cannot be read). */
function readLogEnd(file: string, max: number): string {
  try {
    const size = statSync(file).size;
    const length = Math.min(size, max);
    const buffer = Buffer.alloc(length);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, buffer, 0, length, size - length);
    } finally {
      closeSync(fd);
    }
    return buffer.toString('utf8');
  } catch {
    return '';
  }
}

function finishedLine(plan: PlatformPlan, outcome: PlatformOutcome): string {
  const digest = outcome.digest ? digestOfReference(outcome.digest) : outcome.imageId ? `image ${outcome.imageId} (not pushed)` : '';
  const notes = outcome.notes.length ? ` (${outcome.notes.join('; ')})` : '';
  const took = outcome.action === 'built' ? ` in ${formatDuration(outcome.durationMs)}` : '';
  return `${outcome.action.padEnd(7)} ${plan.id}${took}${digest ? ` → ${digest}` : ''}${notes}`;
}

function failureLines(failure: PlatformFailure, tailLines: number): string {
  const lines = [`FAILED  ${failure.id}: ${escapeControl(failure.message)}`];
  if (failure.logTail) {
    const tail = failure.logTail.trimEnd().split('\n').slice(-tailLines);
    // A build log is anyone's text: no escape sequence of it reaches the terminal.
    lines.push(...tail.map((l) => `    | ${oneLineText(l)}`));
  }
  if (failure.logFile) lines.push(`    full log: ${failure.logFile}`);
  return lines.join('\n');
}

function indexLine(outcome: IndexOutcome): string {
  const tags = outcome.sharedTags.join(', ');
  if (outcome.problem) return `index   ${outcome.repo} [${tags}] not published: ${outcome.problem}`;
  const digest = digestOfReference(outcome.digest);
  return `index   ${outcome.repo} [${tags}] ${outcome.unchanged ? 'unchanged' : 'published'} → ${digest}`;
}

export function skipText(reason: SkipReason): string {
  if (reason.kind === 'stopped') return `not started after ${reason.after} failed (use --keep-going to build independent images anyway)`;
  if (reason.kind === 'unsupported') return reason.detail;
  const via = reason.via.filter((v) => !reason.failed.includes(v));
  return `${reason.failed.join(', ')} failed${via.length ? ` (via ${via.join(', ')})` : ''}`;
}

/**
 * Nothing failed and nothing was left undone but the platforms this engine cannot build (and their
 * dependents, and the indexes that wait for them): a run for another engine must do those.
 */
export function onlyUnbuildableSkipped(result: Pick<BuildRunResult, 'failures' | 'skipped' | 'indexes'>): boolean {
  if (result.failures.length > 0 || result.skipped.length === 0) return false;
  if (!result.skipped.every((s) => s.reason.kind === 'unsupported')) return false;
  const skipped = new Set(result.skipped.map((s) => s.id));
  return result.indexes.every((i) => !i.problem || (i.waitsFor !== undefined && skipped.has(i.waitsFor)));
}

export function summaryLine(result: BuildRunResult): string {
  const count = (action: PlatformOutcome['action']): number => [...result.outcomes.values()].filter((o) => o.action === action).length;
  const parts = [
    `${count('built')} built`,
    `${count('reused')} reused`,
    `${count('retagged')} retagged`,
    `${result.failures.length} failed`,
    `${result.skipped.length} skipped`,
  ];
  const verdict = result.ok ? 'done' : onlyUnbuildableSkipped(result) ? 'INCOMPLETE' : 'FAILED';
  return `${verdict}: ${parts.join(', ')} in ${formatDuration(result.durationMs)}`;
}

export function formatDuration(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${String(Math.round(seconds - minutes * 60)).padStart(2, '0')}s`;
}
