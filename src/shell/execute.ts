/**
 * `imagewright build`: plan, then carry the plan out on the engine, writing image-info after every
 * platform. Holds a lock on the image-info file for the whole run so two runs cannot interleave.
 */
import { resolve } from 'node:path';
import { acquireLock, createDockerEngine, createProgress, executePlan, ImageInfoStore, runSucceeded, type BuildProgress, type BuildRunResult, type HeldLock, type ProgressMode } from '../execute/index.js';
import type { Engine } from '../execute/engine.js';
import { OptionError } from '../errors.js';
import { subgraph } from '../graph/index.js';
import type { BuildGraph } from '../graph/types.js';
import { describeFilter, isEmptyFilter, matchesFilter, type PlatformFilter } from '../manifest/index.js';
import type { Manifest } from '../manifest/types.js';
import { computeLegs, findLeg, legInput } from '../matrix/index.js';
import type { Plan, PlatformPlan } from '../plan/types.js';
import type { RegistryClient } from '../registry/index.js';
import { binfmtProbe, type EmulationProbe } from '../execute/emulation.js';
import type { SkipReason } from '../execute/index.js';
import type { TargetPlatform } from '../platform.js';
import { enginePlatformProvider } from './build-platform.js';
import { checkBasePlatforms, checkEmulation, platformsToBuild, unbuildableOnEngine } from './platform-check.js';
import { planRepository, type LoadOptions, type PlanResult } from './plan.js';
import type { BuildSecret } from '../secret.js';

export interface BuildOptions extends LoadOptions {
  imageInfoFile: string | undefined;
  registry: RegistryClient;
  push: boolean;
  noCache: boolean;
  keepGoing: boolean;
  jobs?: number;
  /** ImageBuilder's filters (--os-type, --architecture, --os-version, --path): build only the platforms they select. */
  filter: PlatformFilter;
  /** Build only this leg of the matrix (`imagewright matrix`), computed again from the same inputs. */
  leg?: string;
  /** The --max-legs the matrix was computed with. */
  maxLegs?: number;
  /**
   * Write the records of this run's platforms (and of indexes it published) to this file alone,
   * for `merge-image-info`; default: update imageInfoFile in place.
   */
  imageInfoOut?: string;
  logDir: string;
  progressStream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };
  /** `--progress`; default auto. */
  progress?: ProgressMode;
  /** ImageBuilder's --skip-platform-check: build even on a base image whose config names another platform. */
  skipPlatformCheck?: boolean;
  /** `--secret` specifications, passed to every build. */
  secrets?: readonly BuildSecret[];
  /** For tests: an engine instead of the Docker CLI one. */
  engine?: Engine;
  /** For tests: how to find out whether the engine emulates an architecture (default: this machine's binfmt_misc). */
  emulation?: EmulationProbe;
}

export interface BuildOutcome {
  planned: PlanResult;
  result: BuildRunResult;
}

const NO_ENGINE: Engine = {
  description: 'none (nothing to build)',
  build: () => Promise.reject(new Error('internal: a build was started although none was planned')),
  push: () => Promise.reject(new Error('internal: a push was started although no build was planned')),
};

export async function buildRepository(options: BuildOptions): Promise<BuildOutcome> {
  const outFile = options.imageInfoOut ?? options.imageInfoFile;
  const separateOut = options.imageInfoOut !== undefined && (!options.imageInfoFile || resolve(options.imageInfoOut) !== resolve(options.imageInfoFile));
  const lock = outFile ? await acquireLock(outFile, { warn: options.warn }) : undefined;
  const releaseOnSignal = lock ? releaseLockOnSignals(lock) : () => undefined;
  try {
    // One answer for BUILDPLATFORM while planning and for what the engine can build.
    const enginePlatform = enginePlatformProvider(options.buildPlatform, options.warn);
    const planned = await planRepository({ ...options, noCache: options.noCache, buildPlatform: enginePlatform });
    let plan = selectPlatforms(planned.plan, planned.graph, options.filter);
    // The legs `matrix` computed with the same filters.
    if (options.leg !== undefined) plan = selectLeg(plan, filteredGraph(planned.graph, options.filter), options.leg, options.maxLegs);
    const skip = await checkPlatforms(planned, plan, options, enginePlatform);
    // Finding the Docker client costs a few processes; a run with nothing to build needs none.
    const needsEngine = plan.platforms.some((p) => p.decision === 'build' && !skip.has(p.id));
    const engine = options.engine ?? (needsEngine ? await createDockerEngine({ env: process.env }) : NO_ENGINE);
    const empty = { schemaVersion: '2.0', repos: [] };
    const store = outFile ? await ImageInfoStore.open(outFile, planned.manifest, separateOut ? empty : undefined) : undefined;
    // Whether an index is unchanged is judged against what the run started from, not the fresh leg file.
    const reference = separateOut ? await ImageInfoStore.open(outFile as string, planned.manifest, planned.previous ?? empty) : store;
    const deferred = partlySelectedImages(planned.manifest, plan);
    const progress = deferIndexes(createProgress({ stream: options.progressStream, mode: options.progress ?? 'auto' }), deferred);
    const result = await executePlan(
      { manifest: planned.manifest, graph: planned.graph, plan, sources: planned.sources },
      {
        engine,
        registry: options.registry,
        push: options.push,
        noCache: options.noCache,
        keepGoing: options.keepGoing,
        jobs: options.jobs,
        commandLineBuildArgs: options.commandLineBuildArgs,
        secrets: options.secrets,
        logDir: options.logDir,
        skip,
        progress,
        onPlatformDone: store ? (p, outcome) => store.recordPlatform(p, outcome) : undefined,
        onIndexPublished: store ? (image, record) => store.recordIndex(image, record) : undefined,
        previousIndex: reference ? (image) => reference.indexRecord(image) : undefined,
      },
    );
    await store?.flush();
    return { planned: { ...planned, plan }, result: withoutDeferred(result, deferred) };
  } finally {
    releaseOnSignal();
    await lock?.release();
  }
}

/**
 * Before anything builds: platforms of another OS than the engine's are to be skipped (returned),
 * a base image of the wrong platform is exit 2, missing emulation for RUN steps exit 3.
 */
async function checkPlatforms(planned: PlanResult, plan: Plan, options: BuildOptions, enginePlatform: () => Promise<TargetPlatform>): Promise<Map<string, SkipReason>> {
  if (!plan.platforms.some((p) => p.decision === 'build')) return new Map();
  const engine = await enginePlatform();
  const skip = unbuildableOnEngine(plan, engine);
  if (!options.skipPlatformCheck) await checkBasePlatforms(planned, plan, options.registry, skip);
  await checkEmulation(platformsToBuild(planned, plan, skip), engine, options.emulation ?? binfmtProbe());
  return skip;
}

/**
 * Keep only the platforms the filters select (ImageBuilder's --os-type, --architecture, --os-version,
 * --path). An upstream that must build but is left out would make its dependents read a stale
 * image, so that is refused.
 */
export function selectPlatforms(plan: Plan, graph: BuildGraph, filter: PlatformFilter): Plan {
  const selected = filteredPlan(plan, filter);
  if (selected !== plan) checkUpstreamsSelected(plan, graph, selected.platforms, filterOptions(filter));
  return selected;
}

/**
 * The plan of the platforms the filters select, for showing (`plan`): each keyed as in the whole
 * plan, against its real upstreams. A filter that selects nothing is a mistake worth saying.
 */
export function filteredPlan(plan: Plan, filter: PlatformFilter): Plan {
  if (isEmptyFilter(filter)) return plan;
  const selected = plan.platforms.filter((p) => matchesFilter(p.platform, filter));
  if (selected.length === 0) throw noMatch(filter);
  return selectedPlan(plan, selected);
}

/** The manifest platforms the filters select; throws when none is. */
export function filteredGraph(graph: BuildGraph, filter: PlatformFilter): BuildGraph {
  if (isEmptyFilter(filter)) return graph;
  const selected = subgraph(graph, (p) => matchesFilter(p, filter));
  if (selected.order.length === 0) throw noMatch(filter);
  return selected;
}

function noMatch(filter: PlatformFilter): OptionError {
  const option = filterOptions(filter);
  const values = [filter.osTypes, filter.architectures, filter.osVersions, filter.paths].flatMap((v) => v ?? []).join(', ');
  return new OptionError(option, `${values} matches no platform${option === '--path' ? "'s Dockerfile" : ''}`);
}

/** The filter options given, for messages: `--path`, `--os-type, --architecture`. */
function filterOptions(filter: PlatformFilter): string {
  return describeFilter(filter)
    .split(' ')
    .filter((word, i, words) => word.startsWith('--') && words.indexOf(word) === i)
    .join(', ');
}

/**
 * Keep only the platforms of the matrix leg `name` (the legs `imagewright matrix` computes from the
 * same manifest and --max-legs; they never depend on the plan).
 */
export function selectLeg(plan: Plan, graph: BuildGraph, name: string, maxLegs: number | undefined): Plan {
  const matrix = computeLegs(legInput(graph), maxLegs === undefined ? {} : { maxLegs });
  const leg = findLeg(matrix, name);
  if (!leg) {
    const known = matrix.legs.map((l) => l.name).join(', ');
    throw new OptionError('--leg', `no leg is named ${name}${maxLegs === undefined ? '' : ` with --max-legs ${maxLegs}`}; the legs are: ${known}`);
  }
  const ids = new Set(leg.platformIds);
  const selected = plan.platforms.filter((p) => ids.has(p.id));
  checkUpstreamsSelected(plan, graph, selected, '--leg');
  return selectedPlan(plan, selected);
}

/** The selected platforms, and the indexes whose platforms are all among them. */
function selectedPlan(plan: Plan, selected: PlatformPlan[]): Plan {
  const ids = new Set(selected.map((p) => p.id));
  return { platforms: selected, indexes: plan.indexes.filter((index) => index.platforms.every((id) => ids.has(id))) };
}

/**
 * An upstream that must build but is left out would make its dependents read a stale (or missing)
 * image. The graph's edges say who reads whom, whatever the dependent's own reasons are.
 */
function checkUpstreamsSelected(plan: Plan, graph: BuildGraph, selected: Plan['platforms'], option: string): void {
  const chosen = new Set(selected.map((p) => p.id));
  const byId = new Map(plan.platforms.map((p) => [p.id, p]));
  for (const edge of graph.edges) {
    if (!chosen.has(edge.to) || chosen.has(edge.from)) continue;
    const upstream = byId.get(edge.from);
    if (upstream?.decision !== 'build') continue;
    const fix =
      option === '--leg'
        ? 'build the earlier waves first and pass their merged image-info as --image-info'
        : option === '--path'
          ? `add ${upstream.dockerfile}`
          : `build ${edge.from} first, or select it too`;
    throw new OptionError(option, `${edge.to} needs ${edge.from} built first, and ${option} leaves it out; ${fix}`);
  }
}

/** Images with shared tags of which the run builds some platforms but not all (`repo\0imageIndex`). */
function partlySelectedImages(manifest: Manifest, plan: Plan): Set<string> {
  const chosen = new Set(plan.platforms.map((p) => p.id));
  const partly = new Set<string>();
  for (const repo of manifest.repos) {
    repo.images.forEach((image, i) => {
      const inRun = image.platforms.filter((p) => chosen.has(p.id)).length;
      if (image.sharedTags.length > 0 && inRun > 0 && inRun < image.platforms.length) partly.add(`${repo.name}\0${i}`);
    });
  }
  return partly;
}

/**
 * The index of an image whose other platforms build elsewhere (another leg, or outside --path) is
 * not this run's to publish: `publish-manifest` does it after the legs. Said so, and not a failure.
 */
function deferIndexes(progress: BuildProgress, deferred: ReadonlySet<string>): BuildProgress {
  if (deferred.size === 0) return progress;
  return {
    begin: (platforms) => progress.begin?.(platforms),
    started: (plan, what) => progress.started(plan, what),
    output: (plan, chunk) => progress.output?.(plan, chunk),
    finished: (plan, outcome) => progress.finished(plan, outcome),
    failed: (plan, failure) => progress.failed(plan, failure),
    skipped: (plan, skip) => progress.skipped(plan, skip),
    index: (outcome) =>
      progress.index(
        outcome.problem && deferred.has(`${outcome.repo}\0${outcome.imageIndex}`)
          ? { ...outcome, problem: 'other platforms build elsewhere; left to publish-manifest' }
          : outcome,
      ),
    done: (result) => progress.done(withoutDeferred(result, deferred)),
  };
}

function withoutDeferred(result: BuildRunResult, deferred: ReadonlySet<string>): BuildRunResult {
  if (deferred.size === 0) return result;
  const indexes = result.indexes.filter((i) => !(i.problem && deferred.has(`${i.repo}\0${i.imageIndex}`)));
  return { ...result, indexes, ok: runSucceeded(result.failures, result.skipped, indexes) };
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
