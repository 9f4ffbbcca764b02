/**
 * One run per image-info file: two runs writing the same file would each drop the other's records.
 * The lock is `<image-info>.lock`, created exclusively, naming the process that holds it.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';

export interface LockOwner {
  pid: number;
  host: string;
  /** ISO time the run started. */
  started: string;
}

export interface HeldLock {
  readonly file: string;
  readonly owner: LockOwner;
  /** Remove the lock file, unless another run has taken it over meanwhile. */
  release(): Promise<void>;
}

/** Another run holds the lock. Not bad input: the same command succeeds once that run ends. */
export class LockedError extends Error {
  readonly exitCode = 1;
  constructor(
    readonly file: string,
    readonly owner: LockOwner | undefined,
  ) {
    const who = owner ? `pid ${owner.pid} on ${owner.host}, started ${owner.started}` : 'an unreadable lock';
    super(`${file} is held by another imagewright run (${who}); if no such run exists, delete the lock file`);
    this.name = 'LockedError';
  }
}

export interface LockOptions {
  warn?: (message: string) => void;
  /** Whether a process of this host is alive; injectable for tests. */
  isAlive?: (pid: number) => boolean;
  host?: string;
  pid?: number;
  now?: () => Date;
}

/** The lock file that guards an image-info file. */
export function lockFileFor(imageInfoFile: string): string {
  return `${imageInfoFile}.lock`;
}

/**
 * Take the lock for `imageInfoFile`. A lock left by a dead process of this host is stale and taken
 * over with a warning; a lock of a live process, or of another host (whose processes we cannot
 * see), is refused with `LockedError`.
 */
export async function acquireLock(imageInfoFile: string, options: LockOptions = {}): Promise<HeldLock> {
  const file = lockFileFor(imageInfoFile);
  const owner: LockOwner = {
    pid: options.pid ?? process.pid,
    host: options.host ?? hostname(),
    started: (options.now?.() ?? new Date()).toISOString(),
  };
  const isAlive = options.isAlive ?? processIsAlive;
  if (await createExclusive(file, owner)) return heldLock(file, owner);
  const holder = await readOwner(file);
  if (holder === undefined || holder.host !== owner.host || isAlive(holder.pid)) throw new LockedError(file, holder);
  options.warn?.(`taking over stale lock ${file} of pid ${holder.pid} (started ${holder.started}), which is no longer running`);
  await unlink(file).catch(ignoreMissing);
  // Two runs may find the same stale lock; the exclusive create lets exactly one of them win.
  if (await createExclusive(file, owner)) return heldLock(file, owner);
  throw new LockedError(file, await readOwner(file));
}

async function createExclusive(file: string, owner: LockOwner): Promise<boolean> {
  let handle;
  try {
    handle = await open(file, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(`${JSON.stringify(owner)}\n`);
  } finally {
    await handle.close();
  }
  return true;
}

async function readOwner(file: string): Promise<LockOwner | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockOwner>;
    if (Number.isInteger(parsed.pid) && (parsed.pid as number) > 0 && typeof parsed.host === 'string' && typeof parsed.started === 'string') {
      return { pid: parsed.pid as number, host: parsed.host, started: parsed.started };
    }
  } catch {
    // An empty or half-written lock is treated as held: its writer may be mid-way.
  }
  return undefined;
}

function heldLock(file: string, owner: LockOwner): HeldLock {
  let released = false;
  return {
    file,
    owner,
    async release() {
      if (released) return;
      released = true;
      const current = await readOwner(file);
      if (current && current.pid === owner.pid && current.host === owner.host && current.started === owner.started) {
        await unlink(file).catch(ignoreMissing);
      }
    },
  };
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}
