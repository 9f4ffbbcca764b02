/**
 * `imagewright build`: plan, then carry the plan out on the engine, writing image-info after every
 * platform. Holds a lock on the image-info file for the whole run so two runs cannot interleave.
 */
import { resolve } from 'node:path';
import { commitUrlMaker } from './source-repo.js';
import { acquireLock, createDockerEngine, createProgress, executePlan, ImageInfoStore, runSucceeded, type BuildProgress, type BuildRunResult, type HeldLock, type ProgressMode } from '../execute/index.js';
import { onceProbe, type Engine } from '../execute/engine.js';
import { matchesFilter, type ManifestPlatform } from '../manifest/index.js';
import { filteredGraph, legPlatforms, partlySelectedImages, selectLeg, selectPlatforms, type DeferredIndexes, type PlatformFilter } from '../plan/index.js';
import type { Plan } from '../plan/types.js';
import type { ImageInfo } from '../imageinfo/index.js';
import type { LegStamp, MatrixPlan } from '../matrix/index.js';
import { OptionError } from '../errors.js';
import type { RegistryClient } from '../registry/index.js';
import { binfmtProbe, type EmulationProbe } from '../execute/emulation.js';
import type { SkipReason } from '../execute/index.js';
import type { TargetPlatform } from '../platform.js';
import { enginePlatformProvider } from './build-platform.js';
import { checkBasePlatforms, checkEmulation, platformsToBuild, unbuildableOnEngine } from './platform-check.js';
import { LABEL_PLAN } from '../imageinfo/labels.js';
import { planRepository, type EarlierAttempts, type LoadOptions, type PlanResult } from './plan.js';
import { foreignTagError, foreignTags, recordedDigests, tagClaims, takeOverWarning } from './tag-owners.js';
import type { BuildSecret } from '../secret.js';
import { PhaseTimings } from '../timings.js';

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
  /** The matrix's plan (build --plan): recorded in the leg file (imageInfoOut), for merge-image-info to check. */
  legPlan?: MatrixPlan;
  /**
   * Write the records of this run's platforms (and of indexes it published) to this file alone,
   * for `merge-image-info`; default: update imageInfoFile in place.
   */
  imageInfoOut?: string;
  logDir: string;
  progressStream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };
  /** `--progress`; default auto. */
  progress?: ProgressMode;
  /** ImageBuilder's --source-repo: the repository URL of commitUrl (default: the git remote origin). */
  sourceRepo?: string;
  /** ImageBuilder's --skip-platform-check: build even on a base image whose config names another platform. */
  skipPlatformCheck?: boolean;
  /** `--secret` specifications, passed to every build. */
  secrets?: readonly BuildSecret[];
  /** Push even over tags that hold another run's images (see tag-owners.ts), with a warning. */
  takeOverTags?: boolean;
  /** For tests: an engine instead of the Docker CLI one. */
  engine?: Engine;
  /** For tests: how to find out whether the engine emulates an architecture (default: this machine's binfmt_misc). */
  emulation?: EmulationProbe;
  /** Where the run's time goes, by phase (`--verbose`). */
  timings?: PhaseTimings;
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

/** What `build` offers its command: the exit rule and the progress modes (see execute/progress.ts). */
export { onlyUnbuildableSkipped, PROGRESS_MODES, type ProgressMode } from '../execute/index.js';

export async function buildRepository(options: BuildOptions): Promise<BuildOutcome> {
  const outFile = options.imageInfoOut ?? options.imageInfoFile;
  const separateOut = options.imageInfoOut !== undefined && (!options.imageInfoFile || resolve(options.imageInfoOut) !== resolve(options.imageInfoFile));
  const timings = options.timings ?? new PhaseTimings();
  const legFileStart = legFileStartOf(options, separateOut);
  const lock = outFile ? await acquireLock(outFile, { warn: options.warn }) : undefined;
  const releaseOnSignal = lock ? releaseLockOnSignals(lock) : () => undefined;
  try {
    // One answer for BUILDPLATFORM while planning and for what the engine can build.
    // Detection and BUILDPLATFORM share one `docker version`.
    const probe = onceProbe();
    const enginePlatform = enginePlatformProvider(options.buildPlatform, options.warn, probe);
    // Finding the Docker client and the engine's platform costs a few processes: a run with nothing
    // to build starts none. One that builds starts them as soon as its keys say so, while the
    // registry is asked about recorded images; they decide nothing.
    let detecting: Promise<Engine> | undefined;
    const getEngineReady = (): void => {
      enginePlatform().catch(() => undefined);
      if (options.engine || detecting) return;
      detecting = timings.time('engine detection', () => createDockerEngine({ env: process.env, probe }));
      detecting.catch(() => undefined);
    };
    const onCertainBuilds = (platforms: readonly ManifestPlatform[]): void => {
      // A leg is chosen from the whole plan: wait for it.
      if (options.leg === undefined && platforms.some((p) => matchesFilter(p, options.filter))) getEngineReady();
    };
    const planned = await timings.time('plan', () =>
      planRepository({
        ...options,
        imageInfoFiles: outFile ? [outFile] : [],
        noCache: options.noCache,
        buildPlatform: enginePlatform,
        onCertainBuilds,
        ...earlierAttemptsOf(options),
      }),
    );
    let plan = selectPlatforms(planned.plan, planned.graph, options.filter);
    // The legs `matrix` computed with the same filters.
    if (options.leg !== undefined) plan = selectLeg(plan, filteredGraph(planned.graph, options.filter), options.leg, options.maxLegs);
    const builds = plan.platforms.some((p) => p.decision === 'build');
    if (builds) getEngineReady();
    // Platforms of another OS than the engine's are skipped; the other checks, the commit URLs and the
    // image-info store then get ready at once, and every check answers before anything builds.
    const skip = builds ? unbuildableOnEngine(plan, await timings.time('platform checks', enginePlatform)) : new Map<string, SkipReason>();
    const empty = { schemaVersion: '2.0', repos: [] };
    // The file the plan just read (under the lock, so unchanged since): taken as planned, not parsed a second time.
    const asPlanned = planned.previousAsInFile ? planned.previous : undefined;
    const [, , commitUrl, store] = await inOrder([
      timings.time('platform checks', () => checkPlatforms(planned, plan, skip, options, enginePlatform)),
      options.push && options.imageInfoFile ? timings.time('registry reads', () => checkTagOwners(planned, plan, skip, options)) : undefined,
      timings.time('commit URLs', () => commitUrlMaker(planned.manifest.dir, options.sourceRepo)),
      outFile
        ? timings.time('image-info writes', () => ImageInfoStore.open(outFile, planned.manifest, separateOut ? legFileStart : asPlanned, { previousAsInFile: !separateOut && asPlanned !== undefined }))
        : undefined,
    ] as const);
    const needsEngine = plan.platforms.some((p) => p.decision === 'build' && !skip.has(p.id));
    const engine = options.engine ?? (needsEngine && detecting ? await detecting : NO_ENGINE);
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
        // A re-run of the leg knows its first attempt's images by this label.
        ...(options.legPlan ? { labels: { [LABEL_PLAN]: options.legPlan.id } } : {}),
        logDir: options.logDir,
        skip,
        progress,
        onPlatformDone: store ? async (p, outcome) => store.recordPlatform(p, outcome, await commitUrl(p.dockerfile)) : undefined,
        onIndexPublished: store ? (image, record) => store.recordIndex(image, record) : undefined,
        previousIndex: reference ? (image) => reference.indexRecord(image) : undefined,
        timings,
      },
    );
    await timings.time('image-info writes', () => store?.flush());
    return { planned: { ...planned, plan }, result: withoutDeferred(result, deferred) };
  } finally {
    releaseOnSignal();
    await lock?.release();
  }
}

/** Under `--leg --plan`: the images of this plan's leg an earlier attempt pushed are taken (shell/plan.ts). */
function earlierAttemptsOf(options: BuildOptions): { earlierAttempts?: EarlierAttempts } {
  const { leg, legPlan } = options;
  if (leg === undefined || !legPlan) return {};
  return { earlierAttempts: { planId: legPlan.id, platforms: (graph) => legPlatforms(filteredGraph(graph, options.filter), leg, options.maxLegs) } };
}

/** A leg file starts empty, stamped with the matrix's plan and the leg's name when --plan is given (see matrix/stamp.ts). */
function legFileStartOf(options: BuildOptions, separateOut: boolean): ImageInfo {
  const empty: ImageInfo = { schemaVersion: '2.0', repos: [] };
  const plan = options.legPlan;
  if (!plan) return empty;
  if (options.leg === undefined || !separateOut) throw new OptionError('--plan', 'goes with --leg and --image-info-out: the plan is recorded in the leg file');
  if (!plan.legs.some((leg) => leg.name === options.leg)) {
    throw new OptionError('--plan', `plan ${plan.id} has no leg ${options.leg}; its legs are: ${plan.legs.map((leg) => leg.name).join(', ')}`);
  }
  const stamp: LegStamp = { plan, leg: options.leg };
  return { ...empty, imagewrightLeg: stamp };
}

/** Before anything builds: a base image of the wrong platform is exit 2, missing emulation for RUN steps exit 3. */
async function checkPlatforms(
  planned: PlanResult,
  plan: Plan,
  skip: ReadonlyMap<string, SkipReason>,
  options: BuildOptions,
  enginePlatform: () => Promise<TargetPlatform>,
): Promise<void> {
  if (!plan.platforms.some((p) => p.decision === 'build')) return;
  if (!options.skipPlatformCheck) await checkBasePlatforms(planned, plan, options.registry, skip);
  await checkEmulation(platformsToBuild(planned, plan, skip), await enginePlatform(), options.emulation ?? binfmtProbe());
}

/**
 * Awaits every task, then throws the first failure in the order given (not the first to happen), so
 * a run that fails two checks always reports the same one.
 */
async function inOrder<T extends readonly unknown[]>(tasks: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(tasks);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}

/**
 * Before anything builds or pushes: a tag this run would move that holds another run's image (see
 * tag-owners.ts) refuses the build, or with --take-over-tags is named in a warning. Only with an
 * image-info file: without one, the tags' own labels are the record, and there is no other file to mix with.
 */
async function checkTagOwners(planned: PlanResult, plan: Plan, skip: ReadonlyMap<string, SkipReason>, options: BuildOptions): Promise<void> {
  const claims = tagClaims(planned.manifest, plan, new Set(skip.keys()));
  const foreign = await foreignTags(claims, recordedDigests(planned.previous), options.registry, planned.input.tags);
  if (foreign.length === 0) return;
  if (!options.takeOverTags) throw foreignTagError(options.imageInfoFile as string, foreign);
  options.warn?.(takeOverWarning(foreign));
}

/**
 * The index of an image whose other platforms build elsewhere (another leg, or outside --path) is
 * not this run's to publish: `publish-manifest` does it after the legs. Said so, and not a failure.
 */
function deferIndexes(progress: BuildProgress, deferred: DeferredIndexes): BuildProgress {
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
        outcome.problem && deferred.has(outcome)
          ? { ...outcome, problem: 'other platforms build elsewhere; left to publish-manifest' }
          : outcome,
      ),
    done: (result) => progress.done(withoutDeferred(result, deferred)),
  };
}

function withoutDeferred(result: BuildRunResult, deferred: DeferredIndexes): BuildRunResult {
  if (deferred.size === 0) return result;
  const indexes = result.indexes.filter((i) => !(i.problem && deferred.has(i)));
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
