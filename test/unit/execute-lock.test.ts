import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { access, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { LockedError, acquireLock, lockFileFor } from '../../src/execute/lock.js';

/** The pid of a process that has already exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

describe('image-info lock', () => {
  let dir: string;
  let imageInfo: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'iw-lock-'));
    imageInfo = join(dir, 'image-info.json');
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes pid, host and start time, and refuses a second run while held', async () => {
    const lock = await acquireLock(imageInfo, { now: () => new Date('2026-01-02T03:04:05Z') });
    assert.equal(lock.file, `${imageInfo}.lock`);
    const { nonce, ...written } = JSON.parse(await readFile(lockFileFor(imageInfo), 'utf8')) as Record<string, unknown>;
    assert.match(String(nonce), /^[0-9a-f]{16}$/);
    assert.deepEqual(written, {
      pid: process.pid,
      host: hostname(),
      started: '2026-01-02T03:04:05.000Z',
    });
    await assert.rejects(acquireLock(imageInfo), (error: unknown) => {
      assert.ok(error instanceof LockedError);
      assert.match(error.message, new RegExp(`held by another imagewright run \\(pid ${process.pid} on `));
      return true;
    });
    await lock.release();
    assert.equal(await exists(lock.file), false);
    const again = await acquireLock(imageInfo);
    await again.release();
  });

  it('takes over, with a warning, a lock whose process died on this host', async () => {
    const pid = deadPid();
    await writeFile(lockFileFor(imageInfo), JSON.stringify({ pid, host: hostname(), started: '2026-01-01T00:00:00.000Z' }));
    const warnings: string[] = [];
    const lock = await acquireLock(imageInfo, { warn: (m) => warnings.push(m) });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', new RegExp(`stale lock .* of pid ${pid}`));
    assert.equal(JSON.parse(await readFile(lock.file, 'utf8')).pid, process.pid);
    await lock.release();
  });

  it('does not judge a lock of another host, whose processes it cannot see', async () => {
    await writeFile(lockFileFor(imageInfo), JSON.stringify({ pid: deadPid(), host: 'some-other-host', started: '2026-01-01T00:00:00.000Z' }));
    await assert.rejects(acquireLock(imageInfo), /some-other-host/);
  });

  it('takes over an empty or garbled lock, at once when it is old and after a short wait when it is new', async () => {
    for (const garbage of ['', '{"pid": 4', 'not json at all']) {
      await writeFile(lockFileFor(imageInfo), garbage);
      const old = new Date(Date.now() - 60_000);
      await utimes(lockFileFor(imageInfo), old, old);
      const warnings: string[] = [];
      const lock = await acquireLock(imageInfo, { warn: (m) => warnings.push(m) });
      assert.match(warnings.join('\n'), /taking over lock .*empty or garbled/);
      await lock.release();
    }
    await writeFile(lockFileFor(imageInfo), '');
    const started = Date.now();
    const lock = await acquireLock(imageInfo);
    const waited = Date.now() - started;
    assert.ok(waited >= 1_500 && waited < 5_000, `waited ${waited} ms for a fresh empty lock`);
    await lock.release();
  });

  it('removes the temp files a killed write left, and the lock temp files of dead processes', async () => {
    const dead = deadPid();
    const leftovers = [`.image-info.json.${dead}.0a1b2c.tmp`, `image-info.json.lock.${dead}.0a1b2c.tmp`];
    const unrelated = ['.other.json.1.0a1b2c.tmp', `image-info.json.lock.${process.pid}.0a1b2c.tmp`];
    for (const name of [...leftovers, ...unrelated]) await writeFile(join(dir, name), '{"half');
    const lock = await acquireLock(imageInfo);
    for (const name of leftovers) assert.equal(await exists(join(dir, name)), false, name);
    for (const name of unrelated) assert.equal(await exists(join(dir, name)), true, name);
    await lock.release();
  });

  it('release leaves a lock that another run has taken over meanwhile', async () => {
    const lock = await acquireLock(imageInfo);
    const other = JSON.stringify({ pid: 1, host: hostname(), started: '2026-01-01T00:00:00.000Z' });
    await writeFile(lock.file, other);
    await lock.release();
    assert.equal(await readFile(lock.file, 'utf8'), other);
  });
});
