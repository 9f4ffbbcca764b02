/**
 * Where a run's time goes, by phase (`build --verbose`): wall-clock milliseconds added up per phase
 * name, in the order phases first appear. Phases that run at once (parallel builds) add up to more
 * than the run's wall time. Pure bookkeeping; the clock is performance.now().
 */
import { performance } from 'node:perf_hooks';

export class PhaseTimings {
  readonly #ms = new Map<string, number>();

  add(phase: string, ms: number): void {
    this.#ms.set(phase, (this.#ms.get(phase) ?? 0) + ms);
  }

  /** Runs `task`, adding its time to `phase` whether it succeeds or throws. */
  async time<T>(phase: string, task: () => T | Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await task();
    } finally {
      this.add(phase, performance.now() - started);
    }
  }

  /** `phase 12 ms, other 3 ms`, in first-seen order. */
  format(): string {
    return [...this.#ms].map(([phase, ms]) => `${phase} ${Math.round(ms)} ms`).join(', ');
  }
}
