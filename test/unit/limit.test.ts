import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Semaphore } from '../../src/limit.js';

test('Semaphore keeps at most `limit` tasks running and runs them all', async () => {
  const semaphore = new Semaphore(3);
  let running = 0;
  let peak = 0;
  const results = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      semaphore.run(async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running--;
        return i;
      }),
    ),
  );
  assert.equal(peak, 3);
  assert.deepEqual(results, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('Semaphore releases its slot when a task fails', async () => {
  const semaphore = new Semaphore(1);
  await assert.rejects(semaphore.run(() => Promise.reject(new Error('boom'))));
  assert.equal(await semaphore.run(() => Promise.resolve('next')), 'next');
});

test('Semaphore refuses a limit below 1', () => {
  assert.throws(() => new Semaphore(0), RangeError);
});
