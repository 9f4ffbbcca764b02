/**
 * One run per image-info file: two runs writing the same file would each drop the other's records.
 * The lock is `<image-info>.lock`, naming the process that holds it.
 *
 * Why it is safe with many runs at once:
 * - A lock appears whole or not at all: the owner is written to a private temp file, which is then
 *   hard-linked to the lock name (link fails when the name exists, as O_EXCL does). So a lock file
 *   is never seen empty or half-written by a live run; one that is (left by a crash or by hand)
 *   is taken over like a stale one.
 * - Taking over a stale lock is serialized per lock instance: only the run that creates the marker
 *   `<lock>.takeover-<instance>` may remove that instance, and it checks (same inode, same bytes)
 *   that the lock is still that instance before removing it. A run that read the stale lock late
 *   cannot remove the lock its winner created since: that is another instance.
 * - The lock holder is the only writer of the guarded file, so the temp files of writes a killed
 *   run left behind are removed when the lock is taken.
 */
import { createHash, randomBytes } from 'node:crypto';
import { link, open, readdir, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

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
    const who = owner ? `pid ${owner.pid} on ${owner.host}, started ${owner.started}` : 'a run that is taking it over';
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
 * An unreadable lock younger than this may still be being written by an older imagewright (which
 * wrote the lock in place); an older one is taken over.
 */
const UNREADABLE_GRACE_MS = 2_000;
/** How long to wait for another run that is taking over the same stale lock. */
const TAKEOVER_WAIT_MS = 5_000;

/** What the lock file held when we looked: its bytes and inode, which identify one lock instance. */
interface Snapshot {
  raw: string;
  ino: number;
  mtimeMs: number;
}

/**
 * Take the lock for `imageInfoFile`. A lock left by a dead process of this host is stale and taken
 * over with a warning, and so is an empty or garbled lock file; a lock of a live process, or of
 * another host (whose processes we cannot see), is refused with `LockedError`.
 */
export async function acquireLock(imageInfoFile: string, options: LockOptions = {}): Promise<HeldLock> {
  const file = lockFileFor(imageInfoFile);
  const owner: LockOwner = {
    pid: options.pid ?? process.pid,
    host: options.host ?? hostname(),
    started: (options.now?.() ?? new Date()).toISOString(),
  };
  // The nonce makes every lock instance's bytes unique, even for the same pid and start time.
  const content = `${JSON.stringify({ ...owner, nonce: randomBytes(8).toString('hex') })}\n`;
  const isAlive = options.isAlive ?? processIsAlive;
  const deadline = Date.now() + TAKEOVER_WAIT_MS;
  const warned = new Set<string>();
  for (;;) {
    if (await createWhole(file, content)) {
      await removeLeftovers(imageInfoFile, owner.host, isAlive);
      return heldLock(file, owner, content);
    }
    const snapshot = await readSnapshot(file);
    if (!snapshot) continue; // Released between our two looks.
    const holder = parseOwner(snapshot.raw);
    if (holder && (holder.host !== owner.host || isAlive(holder.pid))) throw new LockedError(file, holder);
    if (!holder && Date.now() - snapshot.mtimeMs < UNREADABLE_GRACE_MS) {
      if (Date.now() > deadline) throw new LockedError(file, undefined);
      await sleep(50);
      continue;
    }
    const id = instanceId(snapshot);
    if (!warned.has(id)) {
      warned.add(id);
      options.warn?.(
        holder
          ? `taking over stale lock ${file} of pid ${holder.pid} (started ${holder.started}), which is no longer running`
          : `taking over lock ${file}, which is empty or garbled (left by a crash?)`,
      );
    }
    if (await removeInstance(file, snapshot, owner.host, isAlive, 0)) continue;
    // Another run is taking the same stale lock over; it will hold the lock in a moment.
    if (Date.now() > deadline) throw new LockedError(file, undefined);
    await sleep(5 + Math.random() * 20);
  }
}

/** Create `file` with `content` in one step; false when it exists. */
async function createWhole(file: string, content: string): Promise<boolean> {
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, content, { flag: 'wx' });
  try {
    await link(temp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temp).catch(ignoreMissing);
  }
}

/** The lock's bytes and inode, read through one descriptor; undefined when there is no lock. */
async function readSnapshot(file: string): Promise<Snapshot | undefined> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const info = await handle.stat();
    // A lock is a few dozen bytes; a huge file is garbage and only its start matters for identity.
    const buffer = Buffer.alloc(Math.min(info.size, 4096));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return { raw: buffer.subarray(0, bytesRead).toString('utf8'), ino: info.ino, mtimeMs: info.mtimeMs };
  } finally {
    await handle.close();
  }
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<LockOwner>;
    if (Number.isInteger(parsed.pid) && (parsed.pid as number) > 0 && typeof parsed.host === 'string' && typeof parsed.started === 'string') {
      return { pid: parsed.pid as number, host: parsed.host, started: parsed.started };
    }
  } catch {
    // Garbled: no owner.
  }
  return undefined;
}

function instanceId(snapshot: Snapshot): string {
  return createHash('sha256').update(`${snapshot.ino}\0${snapshot.raw}`).digest('hex').slice(0, 16);
}

/**
 * Remove the lock instance `snapshot` saw, if it is still there and no other run is removing it.
 * True when the caller should try to create the lock again at once.
 */
async function removeInstance(file: string, snapshot: Snapshot, host: string, isAlive: (pid: number) => boolean, depth: number): Promise<boolean> {
  const marker = `${file}.takeover-${instanceId(snapshot)}`;
  const me = `${JSON.stringify({ pid: process.pid, host, started: new Date().toISOString(), nonce: randomBytes(8).toString('hex') })}\n`;
  if (await createWhole(marker, me)) {
    try {
      const now = await readSnapshot(file);
      // Only the marker's creator may remove this instance, and its owner is gone: if it is still
      // at the name (same inode, same bytes), it stays there until this unlink.
      if (now && now.ino === snapshot.ino && now.raw === snapshot.raw) await unlink(file).catch(ignoreMissing);
    } finally {
      await unlink(marker).catch(ignoreMissing);
    }
    return true;
  }
  // Someone else is removing it. If that run died mid-way, its marker is itself stale: remove it the same way.
  const markerSnapshot = await readSnapshot(marker);
  if (!markerSnapshot) return true;
  const markerOwner = parseOwner(markerSnapshot.raw);
  const markerStale = markerOwner ? markerOwner.host === host && !isAlive(markerOwner.pid) : Date.now() - markerSnapshot.mtimeMs > UNREADABLE_GRACE_MS;
  if (markerStale && depth < 3) await removeInstance(marker, markerSnapshot, host, isAlive, depth + 1);
  return false;
}

/**
 * Files a killed run can leave next to the guarded file: temp files of an interrupted atomic write
 * (`.<name>.<pid>.<random>.tmp`), and this lock's own temp and takeover files of dead processes.
 */
async function removeLeftovers(guarded: string, host: string, isAlive: (pid: number) => boolean): Promise<void> {
  const dir = dirname(resolve(guarded));
  const name = basename(guarded);
  const lockName = basename(lockFileFor(guarded));
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return;
  }
  await Promise.all(
    entries.map(async (entry) => {
      const path = join(dir, entry);
      if (entry.startsWith(`.${name}.`) && entry.endsWith('.tmp')) {
        // We hold the lock, so no other run is writing the guarded file: every temp of it is left over.
        await unlink(path).catch(() => undefined);
        return;
      }
      const lockTemp = entry.startsWith(`${lockName}.`) && entry.endsWith('.tmp') ? /^\.(\d+)\./.exec(entry.slice(lockName.length)) : null;
      if (lockTemp) {
        if (!isAlive(Number(lockTemp[1]))) await unlink(path).catch(() => undefined);
        return;
      }
      if (entry.startsWith(`${lockName}.takeover-`)) {
        const snapshot = await readSnapshot(path).catch(() => undefined);
        const owner = snapshot && parseOwner(snapshot.raw);
        const stale = snapshot && (owner ? owner.host === host && !isAlive(owner.pid) : Date.now() - snapshot.mtimeMs > UNREADABLE_GRACE_MS);
        if (stale) await unlink(path).catch(() => undefined);
      }
    }),
  );
}

function heldLock(file: string, owner: LockOwner, content: string): HeldLock {
  let released = false;
  return {
    file,
    owner,
    async release() {
      if (released) return;
      released = true;
      const current = await readSnapshot(file);
      // Our bytes (the nonce) are ours alone: anything else is a lock another run took over.
      if (current?.raw === content) await unlink(file).catch(ignoreMissing);
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}
