import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runDag, type DagNode, type NodeResult } from '../../src/execute/scheduler.js';

/** A `run` whose calls the test completes by hand, recording what started when. */
function controlledRun(): {
  run: (id: string) => Promise<string>;
  started: string[];
  running: () => string[];
  maxRunning: () => number;
  succeed: (id: string) => Promise<void>;
  fail: (id: string) => Promise<void>;
} {
  const waiting = new Map<string, { resolve: (v: string) => void; reject: (e: Error) => void }>();
  const started: string[] = [];
  let max = 0;
  const settle = async (): Promise<void> => {
    // Let the scheduler react before the test looks again.
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return {
    run: (id) =>
      new Promise<string>((resolve, reject) => {
        started.push(id);
        waiting.set(id, { resolve, reject });
        max = Math.max(max, waiting.size);
      }),
    started,
    running: () => [...waiting.keys()],
    maxRunning: () => max,
    succeed: async (id) => {
      const w = waiting.get(id);
      assert.ok(w, `${id} is not running`);
      waiting.delete(id);
      w.resolve(`value of ${id}`);
      await settle();
    },
    fail: async (id) => {
      const w = waiting.get(id);
      assert.ok(w, `${id} is not running`);
      waiting.delete(id);
      w.reject(new Error(`${id} broke`));
      await settle();
    },
  };
}

const node = (id: string, ...upstreams: string[]): DagNode => ({ id, upstreams });
const tick = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('runDag', () => {
  it('starts a dependent only after its upstream succeeded', async () => {
    const c = controlledRun();
    const done = runDag([node('a'), node('b', 'a'), node('c', 'b')], c.run, { concurrency: 4, keepGoing: false });
    await tick();
    assert.deepEqual(c.running(), ['a']);
    await c.succeed('a');
    assert.deepEqual(c.running(), ['b']);
    await c.succeed('b');
    assert.deepEqual(c.running(), ['c']);
    await c.succeed('c');
    const results = await done;
    assert.deepEqual(results.get('c'), { status: 'done', value: 'value of c' });
    assert.deepEqual(c.started, ['a', 'b', 'c']);
  });

  it('never runs more than `concurrency` nodes at once, and starts ready nodes in list order', async () => {
    const c = controlledRun();
    const ids = ['n1', 'n2', 'n3', 'n4', 'n5'];
    const done = runDag(ids.map((id) => node(id)), c.run, { concurrency: 2, keepGoing: false });
    await tick();
    assert.deepEqual(c.running(), ['n1', 'n2']);
    await c.succeed('n2');
    assert.deepEqual(c.running(), ['n1', 'n3']);
    for (const id of ['n1', 'n3', 'n4', 'n5']) await c.succeed(id);
    await done;
    assert.equal(c.maxRunning(), 2);
    assert.deepEqual(c.started, ['n1', 'n2', 'n3', 'n4', 'n5']);
  });

  it('runs independent branches side by side', async () => {
    const c = controlledRun();
    const done = runDag([node('a'), node('b'), node('a2', 'a'), node('b2', 'b')], c.run, { concurrency: 2, keepGoing: false });
    await tick();
    await c.succeed('a');
    assert.deepEqual(c.running().sort(), ['a2', 'b']);
    await c.succeed('b');
    await c.succeed('a2');
    await c.succeed('b2');
    const results = await done;
    assert.ok([...results.values()].every((r) => r.status === 'done'));
  });

  it('with keep-going, skips the transitive dependents of a failure and builds the rest', async () => {
    const c = controlledRun();
    const done = runDag([node('a'), node('b', 'a'), node('c', 'b'), node('d')], c.run, { concurrency: 1, keepGoing: true });
    await tick();
    await c.fail('a');
    assert.deepEqual(c.running(), ['d']);
    await c.succeed('d');
    const results = await done;
    assert.equal(results.get('a')?.status, 'failed');
    assert.deepEqual(results.get('b'), { status: 'skipped', reason: { kind: 'upstream-failed', failed: ['a'], via: ['a'] } });
    assert.deepEqual(results.get('c'), { status: 'skipped', reason: { kind: 'upstream-failed', failed: ['a'], via: ['b'] } });
    assert.equal(results.get('d')?.status, 'done');
    assert.deepEqual(c.started, ['a', 'd']);
  });

  it('skips a dependent as soon as one upstream fails, while its other upstream still runs', async () => {
    const c = controlledRun();
    const settled: string[] = [];
    const done = runDag([node('a'), node('b'), node('c', 'a', 'b'), node('e', 'c')], c.run, {
      concurrency: 2,
      keepGoing: true,
      onSettled: (id) => settled.push(id),
    });
    await tick();
    await c.fail('a');
    assert.deepEqual(settled, ['a', 'c', 'e'], 'c and e are settled before b finishes');
    await c.succeed('b');
    const results = await done;
    assert.deepEqual(results.get('c'), { status: 'skipped', reason: { kind: 'upstream-failed', failed: ['a'], via: ['a'] } });
    assert.deepEqual(results.get('e'), { status: 'skipped', reason: { kind: 'upstream-failed', failed: ['a'], via: ['c'] } });
    assert.equal(results.get('b')?.status, 'done');
  });

  it('without keep-going, starts nothing after the first failure but lets running nodes finish', async () => {
    const c = controlledRun();
    const done = runDag([node('a'), node('slow'), node('later'), node('dep', 'a')], c.run, { concurrency: 2, keepGoing: false });
    await tick();
    assert.deepEqual(c.running(), ['a', 'slow']);
    await c.fail('a');
    assert.deepEqual(c.running(), ['slow'], 'no new node starts after the failure');
    await c.succeed('slow');
    const results = await done;
    assert.equal(results.get('slow')?.status, 'done');
    assert.deepEqual(results.get('dep'), { status: 'skipped', reason: { kind: 'upstream-failed', failed: ['a'], via: ['a'] } });
    assert.deepEqual(results.get('later'), { status: 'skipped', reason: { kind: 'stopped', after: 'a' } });
    assert.deepEqual(c.started, ['a', 'slow']);
  });

  it('treats upstreams outside the run as satisfied and turns a synchronous throw into a failure', async () => {
    const results = await runDag(
      [node('x', 'not-in-this-run'), node('y')],
      (id) => {
        if (id === 'y') throw new Error('sync');
        return Promise.resolve(id);
      },
      { concurrency: 1, keepGoing: true },
    );
    assert.deepEqual(results.get('x'), { status: 'done', value: 'x' });
    const y = results.get('y');
    assert.equal(y?.status, 'failed');
    assert.match(String((y as { error: Error }).error.message), /sync/);
  });

  it('reports each node as it settles', async () => {
    const settled: Array<[string, NodeResult<string>['status']]> = [];
    await runDag([node('a'), node('b', 'a'), node('c')], (id) => (id === 'a' ? Promise.reject(new Error('no')) : Promise.resolve(id)), {
      concurrency: 1,
      keepGoing: true,
      onSettled: (id, r) => settled.push([id, r.status]),
    });
    assert.deepEqual(settled, [
      ['a', 'failed'],
      ['b', 'skipped'],
      ['c', 'done'],
    ]);
  });

  it('rejects a dependency cycle instead of hanging', async () => {
    await assert.rejects(
      runDag([node('a', 'b'), node('b', 'a')], (id) => Promise.resolve(id), { concurrency: 1, keepGoing: false }),
      /cycle/,
    );
  });
});
