/**
 * Runs the nodes of a dependency graph concurrently, each after all of its upstreams succeeded.
 * Knows nothing about images: `run(id)` does the work; the scheduler only decides when, and what a
 * failure prevents.
 */

export interface DagNode {
  id: string;
  /** Ids of the nodes that must succeed first. Ids that are not nodes of the run count as satisfied. */
  upstreams: readonly string[];
}

export type SkipReason =
  /** An upstream failed, directly or further up: `failed` are the root failures, `via` the direct upstreams that failed or were skipped. */
  | { kind: 'upstream-failed'; failed: string[]; via: string[] }
  /** Without --keep-going, nothing new starts after the first failure. */
  | { kind: 'stopped'; after: string }
  /** The engine cannot build it (a Windows platform on a Linux engine), or it needs one that was skipped so. */
  | { kind: 'unsupported'; detail: string };

export type NodeResult<T> =
  | { status: 'done'; value: T }
  | { status: 'failed'; error: unknown }
  | { status: 'skipped'; reason: SkipReason };

export interface ScheduleOptions<T> {
  /** Nodes running at once; at least 1. */
  concurrency: number;
  /** Keep starting independent nodes after a failure. */
  keepGoing: boolean;
  /** Called as each node settles (done, failed or skipped), in settling order. */
  onSettled?: (id: string, result: NodeResult<T>) => void;
  /** Nodes never to run, with the reason; their dependents are skipped as well. Not a failure: independent nodes go on. */
  skip?: ReadonlyMap<string, SkipReason>;
}

/**
 * Run every node once. Ready nodes start in the order `nodes` lists them, so a build-ordered list
 * keeps the manifest's order among independent nodes. Resolves when nothing runs any more; never
 * rejects because of `run` (its errors become `failed` results).
 */
export async function runDag<T>(
  nodes: readonly DagNode[],
  run: (id: string) => Promise<T>,
  options: ScheduleOptions<T>,
): Promise<Map<string, NodeResult<T>>> {
  const position = new Map(nodes.map((n, i) => [n.id, i]));
  if (position.size !== nodes.length) throw new Error('scheduler: duplicate node ids');
  const upstreams = nodes.map((n) => [...new Set(n.upstreams)].filter((u) => position.has(u) && u !== n.id));
  // Work per event is proportional to the nodes it touches, so a run of N nodes costs about N, not N².
  const dependents: number[][] = nodes.map(() => []);
  upstreams.forEach((ups, i) => ups.forEach((u) => dependents[position.get(u) as number]?.push(i)));
  const waitingFor = upstreams.map((ups) => ups.length);
  const ready = new MinHeap(nodes.flatMap((_, i) => (waitingFor[i] === 0 ? [i] : [])));
  const results = new Map<string, NodeResult<T>>();
  const started = new Set<number>();
  const limit = Math.max(1, Math.floor(options.concurrency));
  let running = 0;
  let firstFailure: string | undefined;

  const idAt = (i: number): string => (nodes[i] as DagNode).id;
  const settled = (i: number): boolean => results.has(idAt(i));

  const settle = (i: number, result: NodeResult<T>): void => {
    results.set(idAt(i), result);
    options.onSettled?.(idAt(i), result);
    if (result.status === 'done') {
      for (const d of dependents[i] ?? []) if (--(waitingFor[d] as number) === 0) ready.push(d);
    } else {
      skipBlocked(dependents[i] ?? []);
    }
  };

  // A node whose upstream failed or was skipped is skipped, in list order so reasons chain.
  const skipBlocked = (candidates: readonly number[]): void => {
    const queue = new MinHeap(candidates);
    for (let i = queue.pop(); i !== undefined; i = queue.pop()) {
      if (settled(i) || started.has(i)) continue;
      const reason = blockedReason((upstreams[i] ?? []), results);
      if (!reason) continue;
      results.set(idAt(i), { status: 'skipped', reason });
      options.onSettled?.(idAt(i), { status: 'skipped', reason });
      for (const d of dependents[i] ?? []) queue.push(d);
    }
  };

  return new Promise((resolve, reject) => {
    const pump = (): void => {
      try {
        schedule();
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    };

    const schedule = (): void => {
      while (running < limit && (firstFailure === undefined || options.keepGoing)) {
        const next = ready.pop();
        if (next === undefined) break;
        if (!settled(next) && !started.has(next)) start(next);
      }
      if (running > 0) return;
      nodes.forEach((node, i) => {
        if (settled(i)) return;
        // Nothing runs and this node never became ready: only a cycle (or a stop) leaves it here.
        if (firstFailure !== undefined && !options.keepGoing) {
          settle(i, { status: 'skipped', reason: { kind: 'stopped', after: firstFailure } });
        } else {
          throw new Error(`scheduler: ${node.id} can never start (dependency cycle)`);
        }
      });
      resolve(results);
    };

    const start = (i: number): void => {
      started.add(i);
      running++;
      let outcome: Promise<T>;
      try {
        outcome = run(idAt(i));
      } catch (error) {
        outcome = Promise.reject(error);
      }
      outcome.then(
        (value) => finish(i, { status: 'done', value }),
        (error: unknown) => {
          firstFailure ??= idAt(i);
          finish(i, { status: 'failed', error });
        },
      );
    };

    const finish = (i: number, result: NodeResult<T>): void => {
      running--;
      settle(i, result);
      pump();
    };

    nodes.forEach((node, i) => {
      const reason = options.skip?.get(node.id);
      if (reason) settle(i, { status: 'skipped', reason });
    });
    pump();
  });
}

/** The smallest number first: ready nodes start in list order. */
class MinHeap {
  readonly #items: number[] = [];

  constructor(items: Iterable<number>) {
    for (const item of items) this.push(item);
  }

  push(item: number): void {
    const items = this.#items;
    items.push(item);
    for (let i = items.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if ((items[parent] as number) <= item) break;
      items[i] = items[parent] as number;
      items[parent] = item;
      i = parent;
    }
  }

  pop(): number | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    items[0] = last;
    for (let i = 0; ; ) {
      const [left, right] = [2 * i + 1, 2 * i + 2];
      let smallest = i;
      if (left < items.length && (items[left] as number) < (items[smallest] as number)) smallest = left;
      if (right < items.length && (items[right] as number) < (items[smallest] as number)) smallest = right;
      if (smallest === i) break;
      [items[i], items[smallest]] = [items[smallest] as number, items[i] as number];
      i = smallest;
    }
    return top;
  }
}

function blockedReason<T>(upstreams: readonly string[], results: ReadonlyMap<string, NodeResult<T>>): SkipReason | undefined {
  const failed = new Set<string>();
  const via: string[] = [];
  for (const upstream of upstreams) {
    const result = results.get(upstream);
    if (result?.status === 'failed') {
      failed.add(upstream);
      via.push(upstream);
    } else if (result?.status === 'skipped' && result.reason.kind === 'upstream-failed') {
      for (const root of result.reason.failed) failed.add(root);
      via.push(upstream);
    }
  }
  if (failed.size > 0) return { kind: 'upstream-failed', failed: [...failed], via };
  const unsupported = upstreams.find((u) => {
    const result = results.get(u);
    return result?.status === 'skipped' && result.reason.kind === 'unsupported';
  });
  return unsupported === undefined ? undefined : { kind: 'unsupported', detail: `needs ${unsupported}, which cannot be built here` };
}
