/**
 * The one concurrency limiter: registry requests and large-file reads both go through it; and the
 * size limits that Docker's own readers impose. Pure (no I/O of its own).
 */

/**
 * The longest line, in bytes, Docker reads in a Dockerfile or an ignore file: both go through Go's
 * bufio.Scanner, which fails on a line of 65536 bytes or more ("dockerfile line greater than max
 * allowed size"). Refusing longer lines up front keeps hostile input from costing memory, and
 * refuses nothing Docker would build.
 */
export const DOCKER_LINE_MAX_BYTES = 65535;

/** The 1-based number of the first line of `bytes` longer than DOCKER_LINE_MAX_BYTES, if any. */
export function firstOverlongLine(bytes: Uint8Array): number | undefined {
  let line = 1;
  for (let start = 0; start < bytes.length; line++) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    if (end - start > DOCKER_LINE_MAX_BYTES) return line;
    start = end + 1;
  }
  return undefined;
}

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
