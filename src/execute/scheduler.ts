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
  const known = new Set(nodes.map((n) => n.id));
  if (known.size !== nodes.length) throw new Error('scheduler: duplicate node ids');
  const upstreams = new Map(nodes.map((n) => [n.id, [...new Set(n.upstreams)].filter((u) => known.has(u) && u !== n.id)]));
  const results = new Map<string, NodeResult<T>>();
  const started = new Set<string>();
  const limit = Math.max(1, Math.floor(options.concurrency));
  let running = 0;
  let firstFailure: string | undefined;

  const settle = (id: string, result: NodeResult<T>): void => {
    results.set(id, result);
    options.onSettled?.(id, result);
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
      skipBlocked();
      for (const node of nodes) {
        if (running >= limit) break;
        if (started.has(node.id) || results.has(node.id)) continue;
        if (firstFailure !== undefined && !options.keepGoing) break;
        if (!(upstreams.get(node.id) ?? []).every((u) => results.get(u)?.status === 'done')) continue;
        start(node.id);
      }
      if (running > 0) return;
      for (const node of nodes) {
        if (results.has(node.id)) continue;
        // Nothing runs and this node never became ready: only a cycle (or a stop) leaves it here.
        if (firstFailure !== undefined && !options.keepGoing) {
          settle(node.id, { status: 'skipped', reason: { kind: 'stopped', after: firstFailure } });
        } else {
          throw new Error(`scheduler: ${node.id} can never start (dependency cycle)`);
        }
      }
      resolve(results);
    };

    // A node whose upstream failed or was skipped is skipped, in list order so reasons chain.
    const skipBlocked = (): void => {
      let changed = true;
      while (changed) {
        changed = false;
        for (const node of nodes) {
          if (results.has(node.id) || started.has(node.id)) continue;
          const reason = blockedReason(upstreams.get(node.id) ?? [], results);
          if (!reason) continue;
          settle(node.id, { status: 'skipped', reason });
          changed = true;
        }
      }
    };

    const start = (id: string): void => {
      started.add(id);
      running++;
      let outcome: Promise<T>;
      try {
        outcome = run(id);
      } catch (error) {
        outcome = Promise.reject(error);
      }
      outcome.then(
        (value) => finish(id, { status: 'done', value }),
        (error: unknown) => {
          firstFailure ??= id;
          finish(id, { status: 'failed', error });
        },
      );
    };

    const finish = (id: string, result: NodeResult<T>): void => {
      running--;
      settle(id, result);
      pump();
    };

    for (const node of nodes) {
      const reason = options.skip?.get(node.id);
      if (reason) settle(node.id, { status: 'skipped', reason });
    }
    pump();
  });
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
