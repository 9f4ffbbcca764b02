/**
 * What the user sees during a build run: a line per platform as it starts and as it ends, and a
 * summary. On a terminal the platforms still running stay listed below the finished lines,
 * redrawn in place; elsewhere (CI logs) every line is plain and printed once.
 */
import { digestOfReference } from '../digest.js';
import type { PlatformPlan } from '../plan/types.js';
import type { SkipReason } from './scheduler.js';
import type { BuildRunResult, IndexOutcome, PlatformFailure, PlatformOutcome, PlatformSkip } from './types.js';

export interface BuildProgress {
  started(plan: PlatformPlan, what: string): void;
  finished(plan: PlatformPlan, outcome: PlatformOutcome): void;
  failed(plan: PlatformPlan, failure: PlatformFailure): void;
  skipped(plan: PlatformPlan, skip: PlatformSkip): void;
  index(outcome: IndexOutcome): void;
  /** The summary; stops any redrawing. */
  done(result: BuildRunResult): void;
}

export interface ProgressOptions {
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Redraw a live view; default: whether the stream is a terminal. */
  live?: boolean;
  /** Lines of a failed build's log to show. Default 20. */
  tailLines?: number;
  now?: () => number;
}

export function createProgress(options: ProgressOptions): BuildProgress {
  return (options.live ?? options.stream.isTTY === true) ? new LiveProgress(options) : new PlainProgress(options);
}

/** A progress that prints nothing (tests, --quiet). */
export const silentProgress: BuildProgress = {
  started() {},
  finished() {},
  failed() {},
  skipped() {},
  index() {},
  done() {},
};

class PlainProgress implements BuildProgress {
  protected readonly stream: ProgressOptions['stream'];
  protected readonly tailLines: number;

  constructor(options: ProgressOptions) {
    this.stream = options.stream;
    this.tailLines = options.tailLines ?? 20;
  }

  started(plan: PlatformPlan, what: string): void {
    this.print(`start   ${plan.id}: ${what}`);
  }

  finished(plan: PlatformPlan, outcome: PlatformOutcome): void {
    this.print(finishedLine(plan, outcome));
  }

  failed(plan: PlatformPlan, failure: PlatformFailure): void {
    this.print(failureLines(failure, this.tailLines));
  }

  skipped(plan: PlatformPlan, skip: PlatformSkip): void {
    this.print(`skipped ${plan.id}: ${skipText(skip.reason)}`);
  }

  index(outcome: IndexOutcome): void {
    this.print(indexLine(outcome));
  }

  done(result: BuildRunResult): void {
    this.print(summaryLine(result));
  }

  protected print(text: string): void {
    this.stream.write(`${text}\n`);
  }
}

class LiveProgress extends PlainProgress {
  readonly #running = new Map<string, { what: string; since: number }>();
  readonly #now: () => number;
  #drawn = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: ProgressOptions) {
    super(options);
    this.#now = options.now ?? Date.now;
  }

  override started(plan: PlatformPlan, what: string): void {
    this.#running.set(plan.id, { what, since: this.#now() });
    this.#timer ??= setInterval(() => this.#redraw(), 1000).unref();
    this.#redraw();
  }

  override finished(plan: PlatformPlan, outcome: PlatformOutcome): void {
    this.#running.delete(plan.id);
    super.finished(plan, outcome);
  }

  override failed(plan: PlatformPlan, failure: PlatformFailure): void {
    this.#running.delete(plan.id);
    super.failed(plan, failure);
  }

  override done(result: BuildRunResult): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#running.clear();
    super.done(result);
  }

  /** Permanent lines go above the live block, which is then drawn again. */
  protected override print(text: string): void {
    this.stream.write(`${this.#erase()}${text}\n${this.#block()}`);
  }

  #redraw(): void {
    this.stream.write(`${this.#erase()}${this.#block()}`);
  }

  #erase(): string {
    const up = this.#drawn > 0 ? `\x1b[${this.#drawn}F` : '\r';
    this.#drawn = 0;
    return `${up}\x1b[J`;
  }

  #block(): string {
    const width = Math.max(20, (this.stream.columns ?? 100) - 1);
    const lines = [...this.#running].map(([id, { what, since }]) => {
      const line = `  … ${id} ${formatDuration(this.#now() - since)} ${what}`;
      return line.length > width ? `${line.slice(0, width - 1)}…` : line;
    });
    this.#drawn = lines.length;
    return lines.map((l) => `${l}\n`).join('');
  }
}

function finishedLine(plan: PlatformPlan, outcome: PlatformOutcome): string {
  const digest = outcome.digest ? digestOfReference(outcome.digest) : outcome.imageId ? `image ${outcome.imageId} (not pushed)` : '';
  const notes = outcome.notes.length ? ` (${outcome.notes.join('; ')})` : '';
  const took = outcome.action === 'built' ? ` in ${formatDuration(outcome.durationMs)}` : '';
  return `${outcome.action.padEnd(7)} ${plan.id}${took}${digest ? ` → ${digest}` : ''}${notes}`;
}

function failureLines(failure: PlatformFailure, tailLines: number): string {
  const lines = [`FAILED  ${failure.id}: ${failure.message}`];
  if (failure.logTail) {
    const tail = failure.logTail.trimEnd().split('\n').slice(-tailLines);
    lines.push(...tail.map((l) => `    | ${l}`));
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
