/**
 * A long-lived child process for the lock contention test: on each message it takes the image-info
 * lock (retrying while another run holds it), checks that it is alone, adds its record to the
 * image-info file with the real atomic writer, and releases. Bundled and spawned by
 * test/adversarial/lock-contention.test.ts.
 */
import { writeFile, unlink } from 'node:fs/promises';
import { acquireLock, LockedError } from '../../src/execute/lock.js';
import { readImageInfo, writeImageInfo } from '../../src/imageinfo/index.js';

export interface ContenderTask {
  trial: number;
  imageInfo: string;
  /** Created exclusively while the lock is held: a second holder finds it there. */
  insideMarker: string;
  name: string;
}

export interface ContenderReport {
  trial: number;
  name: string;
  acquired: boolean;
  /** Another holder's marker was there when this one held the lock. */
  overlap: boolean;
  warnings: string[];
  error?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function contend(task: ContenderTask): Promise<ContenderReport> {
  const warnings: string[] = [];
  const report: ContenderReport = { trial: task.trial, name: task.name, acquired: false, overlap: false, warnings };
  for (let attempt = 0; attempt < 400 && !report.acquired; attempt++) {
    let lock;
    try {
      lock = await acquireLock(task.imageInfo, { warn: (m) => warnings.push(m) });
    } catch (error) {
      if (error instanceof LockedError) {
        await sleep(2 + Math.random() * 6);
        continue;
      }
      throw error;
    }
    report.acquired = true;
    try {
      try {
        await writeFile(task.insideMarker, task.name, { flag: 'wx' });
      } catch {
        report.overlap = true;
      }
      const info = (await readImageInfo(task.imageInfo)) ?? { schemaVersion: '2.0', repos: [] };
      await sleep(Math.random() * 3);
      await writeImageInfo(task.imageInfo, { ...info, repos: [...info.repos, { repo: task.name, images: [] }] });
      if (!report.overlap) await unlink(task.insideMarker);
    } finally {
      await lock.release();
    }
  }
  return report;
}

process.on('message', (task: ContenderTask) => {
  contend(task).then(
    (report) => process.send?.(report),
    (error: unknown) => process.send?.({ trial: task.trial, name: task.name, acquired: false, overlap: false, warnings: [], error: String(error) }),
  );
});
process.send?.('ready');
