/**
 * The one concurrency limiter: registry requests and large-file reads both go through it. Pure (no
 * I/O of its own).
 */

/** A counting semaphore: at most `limit` tasks run at once, the rest wait in arrival order. */
export class Semaphore {
  #available: number;
  readonly #waiters: Array<() => void> = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency must be a positive integer, got ${limit}`);
    this.#available = limit;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.#acquire();
    try {
      return await task();
    } finally {
      this.#release();
    }
  }

  #acquire(): Promise<void> {
    if (this.#available > 0) {
      this.#available--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #release(): void {
    // The finishing task hands its slot over directly, so a newcomer cannot slip in between.
    const next = this.#waiters.shift();
    if (next) next();
    else this.#available++;
  }
}
