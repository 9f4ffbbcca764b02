/**
 * `imagewright build`: plan, then carry the plan out on the engine, writing image-info after every
 * platform. Holds a lock on the image-info file for the whole run so two runs cannot interleave.
 */
import { minimatch } from 'minimatch';
import { acquireLock, createDockerEngine, createProgress, executePlan, ImageInfoStore, type BuildRunResult, type HeldLock } from '../build/index.js';
import type { Engine } from '../build/engine.js';
import { InputError } from '../errors.js';
import type { Plan } from '../plan/types.js';
import type { RegistryClient } from '../registry/index.js';
import { planRepository, type LoadOptions, type PlanResult } from './plan.js';

export interface BuildOptions extends LoadOptions {
  imageInfoFile: string | undefined;
  registry: RegistryClient;
  push: boolean;
  noCache: boolean;
  keepGoing: boolean;
  jobs?: number;
  /** Dockerfile path globs (ImageBuilder's --path): build only the platforms they match. */
  paths: string[];
  logDir: string;
  progressStream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** For tests: an engine instead of the Docker CLI one. */
  engine?: Engine;
}

export interface BuildOutcome {
  planned: PlanResult;
  result: BuildRunResult;
}

export async function buildRepository(options: BuildOptions): Promise<BuildOutcome> {
  const lock = options.imageInfoFile ? await acquireLock(options.imageInfoFile, { warn: options.warn }) : undefined;
  const releaseOnSignal = lock ? releaseLockOnSignals(lock) : () => undefined;
  try {
    const planned = await planRepository({ ...options, noCache: options.noCache });
    const plan = selectPaths(planned.plan, options.paths);
    const engine = options.engine ?? (await createDockerEngine({ env: process.env }));
    const store = options.imageInfoFile ? await ImageInfoStore.open(options.imageInfoFile, planned.manifest, planned.previous) : undefined;
    const result = await executePlan(
      { manifest: planned.manifest, graph: planned.graph, plan, sources: planned.sources },
      {
        engine,
        registry: options.registry,
        push: options.push,
        noCache: options.noCache,
        keepGoing: options.keepGoing,
        jobs: options.jobs,
        logDir: options.logDir,
        progress: createProgress({ stream: options.progressStream }),
        onPlatformDone: store ? (p, outcome) => store.recordPlatform(p, outcome) : undefined,
        onIndexPublished: store ? (image, record) => store.recordIndex(image, record) : undefined,
        previousIndex: store ? (image) => store.indexRecord(image) : undefined,
      },
    );
    return { planned: { ...planned, plan }, result };
  } finally {
    releaseOnSignal();
    await lock?.release();
  }
}

/**
 * Keep only the platforms whose Dockerfile (or its folder) matches a glob. An upstream that must
 * build but is left out would make its dependents read a stale image, so that is refused.
 */
export function selectPaths(plan: Plan, globs: readonly string[]): Plan {
  if (globs.length === 0) return plan;
  const matches = (dockerfile: string): boolean => {
    const folder = dockerfile.replace(/\/Dockerfile$/, '');
    return globs.some((g) => {
      const glob = g.replace(/^\.\//, '').replace(/\/+$/, '');
      return minimatch(dockerfile, glob) || minimatch(folder, glob) || minimatch(dockerfile, `${glob}/**`);
    });
  };
  const selected = plan.platforms.filter((p) => matches(p.dockerfile));
  if (selected.length === 0) throw new InputError('--path', undefined, `${globs.join(', ')} matches no platform's Dockerfile`);
  const chosen = new Set(selected.map((p) => p.id));
  for (const p of selected) {
    for (const reason of p.reasons) {
      if (reason.kind === 'upstream-rebuilt' && !chosen.has(reason.upstream)) {
        const upstream = plan.platforms.find((u) => u.id === reason.upstream);
        if (upstream?.decision === 'build') {
          throw new InputError('--path', undefined, `${p.id} needs ${reason.upstream} rebuilt first, and --path leaves it out; add ${upstream.dockerfile}`);
        }
      }
    }
  }
  return { platforms: selected };
}

/** Ctrl-C or a CI cancel must not leave the lock behind: the next run would have to take it over. */
function releaseLockOnSignals(lock: HeldLock): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    void lock.release().finally(() => process.kill(process.pid, signal));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
