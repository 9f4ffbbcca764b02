/**
 * One writer at a time (issue 13, item 4): 50 trials of 10 processes started together on one
 * image-info file whose lock was left by a dead run (or is empty or garbled). Each process takes the
 * lock, checks it is alone, adds its record, releases. Never two holders at once, every record
 * kept, and the stale lock taken over with one warning per instance.
 */
import assert from 'node:assert/strict';
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { build } from 'esbuild';
import { bundleOptions } from '../../scripts/bundle-config.mjs';
import { lockFileFor } from '../../src/execute/lock.js';
import { readImageInfo } from '../../src/imageinfo/index.js';
import { repoRoot } from '../helpers/cli.js';
import type { ContenderReport, ContenderTask } from '../helpers/lock-contender.js';

const TRIALS = 50;
const PROCESSES = 10;

function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('image-info lock under contention', { timeout: 5 * 60_000 }, () => {
  let dir: string;
  const children: ChildProcess[] = [];

  before(async () => {
    mkdirSync(join(repoRoot, '.work'), { recursive: true });
    dir = mkdtempSync(join(repoRoot, '.work', 'lock-contention-'));
    const outfile = join(dir, 'contender.mjs');
    await build({ ...bundleOptions, entryPoints: [join(repoRoot, 'test', 'helpers', 'lock-contender.ts')], outfile, logLevel: 'silent' });
    for (let i = 0; i < PROCESSES; i++) {
      const child = fork(outfile, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      await new Promise<void>((resolve) => child.once('message', () => resolve()));
      children.push(child);
    }
  });

  after(() => {
    for (const child of children) child.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`${TRIALS} trials x ${PROCESSES} processes with a stale lock: never two holders, no record lost`, async () => {
    const started = Date.now();
    for (let trial = 0; trial < TRIALS; trial++) {
      const trialDir = join(dir, `trial-${trial}`);
      mkdirSync(trialDir);
      const imageInfo = join(trialDir, 'image-info.json');
      // Most trials: a lock of a dead process. Every fifth: an empty lock; every seventh: a garbled one.
      const lock = lockFileFor(imageInfo);
      const staleOwner = trial % 5 === 4 ? '' : trial % 7 === 6 ? '{"pid": 12' : JSON.stringify({ pid: deadPid(), host: hostname(), started: '2026-01-01T00:00:00.000Z' });
      await writeFile(lock, staleOwner);
      await utimes(lock, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
      // A temp file a killed writer left behind.
      await writeFile(join(trialDir, '.image-info.json.99999.abcdef.tmp'), '{"half": ');
      const reports = await Promise.all(
        children.map(
          (child, i) =>
            new Promise<ContenderReport>((resolve) => {
              child.once('message', (report: ContenderReport) => resolve(report));
              const task: ContenderTask = { trial, imageInfo, insideMarker: join(trialDir, 'inside'), name: `p${i}` };
              child.send(task);
            }),
        ),
      );
      for (const report of reports) {
        assert.equal(report.error, undefined, `trial ${trial} ${report.name}: ${report.error}`);
        assert.equal(report.overlap, false, `trial ${trial}: ${report.name} held the lock while another run did`);
        assert.equal(report.acquired, true, `trial ${trial}: ${report.name} never got the lock`);
      }
      const info = await readImageInfo(imageInfo);
      assert.deepEqual(
        info?.repos.map((r) => r.repo).sort(),
        children.map((_, i) => `p${i}`).sort(),
        `trial ${trial}: every process's record is in the file`,
      );
      const takeovers = reports.flatMap((r) => r.warnings).filter((w) => /taking over/.test(w));
      assert.ok(takeovers.length >= 1, `trial ${trial}: the stale lock was taken over with a warning`);
      assert.deepEqual(readdirSync(trialDir).sort(), ['image-info.json'], `trial ${trial}: no lock, temp or marker file left`);
    }
    const seconds = (Date.now() - started) / 1000;
    assert.ok(seconds < 120, `${TRIALS} trials took ${seconds.toFixed(1)} s`);
  });
});
