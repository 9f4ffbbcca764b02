/**
 * Carries out a plan: builds the platforms marked `build` (pinned to the digests the plan resolved),
 * pushes them, puts new tags on reused images, publishes each image's shared-tag index, and hands
 * every finished platform to `onPlatformDone` at once, so that nothing built is lost if a later
 * platform fails or the run is interrupted.
 */
import { closeSync, createWriteStream, fstatSync, openSync, readSync, type WriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { displayPath } from '../paths.js';
import { digestOfReference } from '../digest.js';
import { availableParallelism } from 'node:os';
import type { DockerfileAnalysis } from '../dockerfile/types.js';
import type { BuildGraph } from '../graph/types.js';
import type { ManifestRecord } from '../imageinfo/types.js';
import { qualifiedTag, type Manifest, type ManifestImage } from '../manifest/types.js';
import { tagsToPut } from '../plan/render.js';
import type { Plan, PlatformPlan } from '../plan/types.js';
import { isIndexMediaType } from '../registry/media-types.js';
import { formatPlatform, formatPlatformForBuild } from '../platform.js';
import { pinnedReference, repositoryOfReference } from '../reference.js';
import type { BuildSecret, SecretValue } from '../secret.js';
import type { PhaseTimings } from '../timings.js';
import type { Engine, LogSink } from './engine.js';
import { buildTags, imageLabels, syntaxOverride } from './compose.js';
import { baseImage, pinReads, type UpstreamImage } from './inputs.js';
import { pinDockerfile } from './pin.js';
import { silentProgress, type BuildProgress } from './progress.js';
import { indexPlatform, manifestLayers, publishSharedTagIndex, putUnderTags, retag, type ManifestClient } from './publish.js';
import { runDag, type NodeResult, type SkipReason } from './scheduler.js';
import type { BuildRunResult, IndexOutcome, PlatformFailure, PlatformOutcome } from './types.js';
import { writePinnedDockerfile } from './workspace.js';
import type { ContextHash } from '../context/index.js';


/** What the planner produced (the shell's PlanResult has these fields). */
export interface BuildRunInput {
  manifest: Manifest;
  graph: BuildGraph;
  plan: Plan;
  /**
   * Per platform id (PlanInput.platforms): its Dockerfile analysis (which ONBUILD triggers run here, the
   * final stage's base) and the ignore lines that keep imagewright's own files out of its context.
   */
  sources: ReadonlyMap<string, { analysis: DockerfileAnalysis; context?: Pick<ContextHash, 'ownFiles'> }>;
}

export interface BuildRunOptions {
  engine: Engine;
  /** Registry client; required with `push`. */
  registry?: ManifestClient;
  push: boolean;
  noCache: boolean;
  keepGoing: boolean;
  /** Platforms built at once; default os.availableParallelism(). */
  jobs?: number;
  /** Folder for per-platform build logs (created). */
  logDir: string;
  /** Platforms never sent to the engine, with why (a Windows platform on a Linux engine); their dependents are skipped too. */
  skip?: ReadonlyMap<string, SkipReason>;
  progress?: BuildProgress;
  /**
   * Called once per platform that built, was reused or retagged, before its dependents start; calls
   * never overlap. Write image-info here. A throw fails the platform.
   */
  onPlatformDone?: (plan: PlatformPlan, outcome: PlatformOutcome) => void | Promise<void>;
  /**
   * The image's index as the previous image-info records it: when the index to publish is the same
   * (same digest, same shared tags), nothing is written and onIndexPublished is not called.
   */
  previousIndex?: (image: { repo: string; imageIndex: number }) => ManifestRecord | undefined;
  /** Called after an image's shared-tag index is published; calls never overlap with onPlatformDone. */
  onIndexPublished?: (image: { repo: string; imageIndex: number }, record: ManifestRecord) => void | Promise<void>;
  /**
   * `--build-arg` values. A build gets those its plan's inputs name (the ones its key covers), and
   * nothing records them.
   */
  commandLineBuildArgs?: ReadonlyMap<string, SecretValue>;
  /** `--secret` specifications for every build; never part of a key. */
  secrets?: readonly BuildSecret[];
  /** Extra labels for every image (e.g. org.opencontainers.image.revision, .source). */
  labels?: Record<string, string>;
  now?: () => Date;
  /** Where the time of builds, pushes, registry reads, image-info writes and index publishing goes (`--verbose`). */
  timings?: PhaseTimings;
}

/** A failure with the build log attached; `cause` is the original error. */
class PlatformError extends Error {
  constructor(
    cause: unknown,
    readonly logFile: string,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/** A run succeeded when nothing failed, nothing was skipped, and every index it owed was published. */
export function runSucceeded(failures: readonly unknown[], skipped: readonly unknown[], indexes: readonly IndexOutcome[]): boolean {
  return failures.length === 0 && skipped.length === 0 && indexes.every((i) => !i.problem);
}

export async function executePlan(input: BuildRunInput, options: BuildRunOptions): Promise<BuildRunResult> {
  if (options.push && !options.registry) throw new Error('build: pushing needs a registry client');
  return new PlanExecutor(input, options).run();
}

class PlanExecutor {
  readonly #byId: Map<string, PlatformPlan>;
  /**
   * Platforms to build whose build keys are equal have identical inputs: the first (the leader)
   * builds once under every one's tags, the others take its image. Leader id → the group, leader first.
   */
  readonly #groups = new Map<string, PlatformPlan[]>();
  /** Follower id → its leader's id. */
  readonly #leaderOf = new Map<string, string>();
  readonly #outcomes = new Map<string, PlatformOutcome>();
  readonly #localRefs = new Map<string, string[]>();
  readonly #logNames = new Set<string>();
  readonly #failures: PlatformFailure[] = [];
  readonly #indexes: Array<Promise<IndexOutcome>> = [];
  readonly #progress: BuildProgress;
  readonly #now: () => Date;
  /** Serializes the callbacks: they write one file. */
  #callbacks: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly input: BuildRunInput,
    private readonly options: BuildRunOptions,
  ) {
    this.#byId = new Map(input.plan.platforms.map((p) => [p.id, p]));
    const leaders = new Map<string, PlatformPlan>();
    for (const plan of input.plan.platforms) {
      if (plan.decision !== 'build') continue;
      const leader = leaders.get(plan.buildKey);
      if (!leader) {
        leaders.set(plan.buildKey, plan);
        this.#groups.set(plan.id, [plan]);
        continue;
      }
      this.#groups.get(leader.id)?.push(plan);
      this.#leaderOf.set(plan.id, leader.id);
    }
    this.#progress = options.progress ?? silentProgress;
    this.#now = options.now ?? (() => new Date());
  }

  async run(): Promise<BuildRunResult> {
    const started = Date.now();
    await mkdir(this.options.logDir, { recursive: true });
    const upstreams = new Map<string, string[]>();
    for (const edge of this.input.graph.edges) {
      if (!this.#byId.has(edge.from)) continue;
      const list = upstreams.get(edge.to);
      if (list) list.push(edge.from);
      else upstreams.set(edge.to, [edge.from]);
    }
    // A platform that builds the same as another (its leader) waits for it, as for an upstream.
    const nodes = this.input.plan.platforms.map((p) => {
      const leader = this.#leaderOf.get(p.id);
      const ups = upstreams.get(p.id) ?? [];
      return { id: p.id, upstreams: leader === undefined ? ups : [...ups, leader] };
    });
    this.#progress.begin?.(this.input.plan.platforms);
    const results = await runDag(nodes, (id) => this.#runPlatform(id), {
      concurrency: this.options.jobs ?? availableParallelism(),
      keepGoing: this.options.keepGoing,
      ...(this.options.skip ? { skip: this.options.skip } : {}),
      onSettled: (id, result) => this.#settled(id, result),
    });
    const indexes = [...(await Promise.all(this.#indexes)), ...this.#unpublishedIndexes()];
    const skipped = [...results].flatMap(([id, r]) => (r.status === 'skipped' ? [{ id, reason: r.reason }] : []));
    const result: BuildRunResult = {
      outcomes: this.#outcomes,
      failures: this.#failures,
      skipped,
      indexes,
      ok: runSucceeded(this.#failures, skipped, indexes),
      durationMs: Date.now() - started,
    };
    this.#progress.done(result);
    return result;
  }

  /** A log file name of its own for each platform, readable from its id. */
  #logFileFor(id: string): string {
    const base = id.replace(/[^A-Za-z0-9._-]+/g, '_');
    let name = base;
    for (let n = 2; this.#logNames.has(name); n++) name = `${base}-${n}`;
    this.#logNames.add(name);
    return join(this.options.logDir, `${name}.log`);
  }

  #settled(id: string, result: NodeResult<PlatformOutcome>): void {
    const plan = this.#byId.get(id);
    if (!plan) return;
    if (result.status === 'skipped') this.#progress.skipped(plan, { id, reason: result.reason });
    if (result.status !== 'failed') return;
    const error = result.error instanceof PlatformError ? result.error.cause : result.error;
    const failure: PlatformFailure = { id, message: oneLine(error instanceof Error ? error.message : String(error)), error };
    if (result.error instanceof PlatformError) failure.logFile = result.error.logFile;
    // Read now, so the failure is reported before the skips it causes.
    if (failure.logFile) failure.logTail = readTail(failure.logFile, 40);
    this.#failures.push(failure);
    this.#progress.failed(plan, failure);
  }

  async #runPlatform(id: string): Promise<PlatformOutcome> {
    const plan = this.#byId.get(id);
    if (!plan) throw new Error(`build: no plan for ${id}`);
    // A reuse starts and ends at once: its end line says all.
    if (plan.decision === 'build' || tagsToPut(plan).length > 0) this.#progress.started(plan, describePlan(plan, this.options.push));
    const outcome = plan.decision === 'reuse' ? await this.#reuse(plan) : this.#leaderOf.has(id) ? this.#sameBuildAs(plan) : await this.#build(plan);
    await this.#serially(() => this.#time('image-info writes', () => this.options.onPlatformDone?.(plan, outcome)));
    this.#outcomes.set(id, outcome);
    this.#progress.finished(plan, outcome);
    this.#maybePublishIndex(plan);
    return outcome;
  }

  async #reuse(plan: PlatformPlan): Promise<PlatformOutcome> {
    const started = Date.now();
    const previous = plan.previous;
    if (!previous?.digest) throw new Error(`build: ${plan.id} is to be reused but has no recorded image`);
    const outcome: PlatformOutcome = {
      id: plan.id,
      action: 'reused',
      digest: previous.digest,
      tags: plan.tags.filter((t) => previous.simpleTags.includes(t)),
      fromImages: plan.fromImages,
      durationMs: 0,
      notes: plan.pushedEarlier ? ['pushed by an earlier attempt of this leg'] : [],
    };
    const moved = plan.movedTags.map((m) => m.tag);
    const targets = tagsToPut(plan).map((t) => this.#qualified(plan, t));
    const [first] = targets;
    if (first && this.options.push && this.options.registry) {
      await retag(this.options.registry, previous.digest, targets);
      outcome.action = 'retagged';
      outcome.tags = [...plan.tags];
      // The image is where its tags are now (a record from another location was copied here).
      outcome.digest = pinnedReference(repositoryOfReference(first), digestOfReference(previous.digest));
      if (plan.newTags.length > 0) outcome.notes.push(`tagged ${plan.newTags.join(', ')}`);
      if (moved.length > 0) outcome.notes.push(`re-tagged ${moved.join(', ')}, which had moved`);
    } else {
      if (plan.newTags.length > 0) outcome.notes.push(`new tags ${plan.newTags.join(', ')} not published without --push`);
      if (moved.length > 0) outcome.notes.push(`moved tags ${moved.join(', ')} not put back without --push`);
    }
    outcome.durationMs = Date.now() - started;
    return outcome;
  }

  /** A platform whose inputs equal its leader's: the leader's build, under this platform's tags (already on the image). */
  #sameBuildAs(plan: PlatformPlan): PlatformOutcome {
    const leaderId = this.#leaderOf.get(plan.id) as string;
    const leader = this.#outcomes.get(leaderId);
    if (!leader) throw new Error(`build: ${plan.id} waits for ${leaderId}, which did not finish`);
    const tags = buildTags(this.input.manifest, plan, this.options.push);
    const outcome: PlatformOutcome = { ...leader, id: plan.id, tags: [...plan.tags], durationMs: 0, notes: [`built once with ${leaderId}: the same build inputs`] };
    const [first] = tags;
    if (leader.digest && first) outcome.digest = pinnedReference(repositoryOfReference(first), digestOfReference(leader.digest));
    if (!this.options.push) this.#localRefs.set(plan.id, tags);
    return outcome;
  }

  async #build(plan: PlatformPlan): Promise<PlatformOutcome> {
    const started = Date.now();
    const logFile = this.#logFileFor(plan.id);
    const file = createWriteStream(logFile);
    // The log file gets everything; the progress view sees it as it comes (the live block shows its last line).
    const log: LogSink = {
      write: (chunk) => {
        this.#progress.output?.(plan, chunk);
        return file.write(chunk);
      },
    };
    try {
      return await this.#buildLogged(plan, log, logFile, started);
    } catch (error) {
      log.write(`\nimagewright: ${error instanceof Error ? error.message : String(error)}\n`);
      throw new PlatformError(error, logFile);
    } finally {
      await closeStream(file);
    }
  }

  async #buildLogged(plan: PlatformPlan, log: LogSink, logFile: string, started: number): Promise<PlatformOutcome> {
    const { platform } = plan;
    const reads = this.input.graph.reads.get(plan.id) ?? [];
    const analysis = this.input.sources.get(plan.id)?.analysis;
    if (!analysis) throw new Error(`build: no Dockerfile analysis for ${plan.id}`);
    const finalStageLine = analysis.stages[analysis.stages.length - 1]?.line ?? 0;
    const pinned = pinReads(reads, plan.fromImages, (id) => this.#upstreamImage(id), { finalStageLine });
    const { pins, buildArgs } = syntaxOverride(pinned.pins, platform.buildArgs);
    const original = await readFile(platform.dockerfilePath, 'utf8');
    const text = pinDockerfile(original, pins, displayPath(platform.dockerfilePath));
    const base = baseImage(analysis, reads, pinned.used);
    const created = this.#now().toISOString();
    const group = this.#groups.get(plan.id) ?? [plan];
    // The leader's tags first: its record's digest names its own repository.
    const tags = [...new Set(group.flatMap((member) => buildTags(this.input.manifest, member, this.options.push)))];
    // Pushed, the image needs one local tag, the one the engine pushes; the others are put on it in
    // the registry (#push). Each local tag is a write of the engine's whole tag store.
    const localTags = this.options.push ? tags.slice(0, 1) : tags;
    log.write(`imagewright: building ${plan.id} (${formatPlatform(platform)}) from ${displayPath(platform.dockerfilePath)}\n`);
    for (const pin of pinned.pins) log.write(`imagewright: line ${pin.line}: ${pin.ref} → ${pin.pinned}\n`);
    const ownFiles = this.input.sources.get(plan.id)?.context?.ownFiles ?? [];
    const dockerfile = await writePinnedDockerfile(platform.dockerfilePath, platform.contextDir, text, ownFiles);
    this.options.timings?.add('build preparation', Date.now() - started);
    let imageId: string;
    try {
      ({ imageId } = await this.#time('docker build', () => this.options.engine.build({
        contextDir: platform.contextDir,
        dockerfile: dockerfile.path,
        tags: localTags,
        platform: formatPlatformForBuild(platform),
        buildArgs: { ...this.#commandLineArgs(plan), ...buildArgs },
        secrets: this.options.secrets ?? [],
        labels: imageLabels({ plan, group, fromImages: pinned.fromImages, created, base, extra: this.options.labels }),
        cacheFrom: !this.options.noCache && plan.previous?.digest ? [plan.previous.digest] : [],
        inlineCache: true,
        noCache: this.options.noCache,
        log,
      })));
    } finally {
      await dockerfile.dispose();
    }
    const outcome: PlatformOutcome = {
      id: plan.id,
      action: 'built',
      digest: '',
      imageId,
      tags: [...plan.tags],
      fromImages: pinned.fromImages,
      created,
      durationMs: 0,
      logFile,
      notes: [],
    };
    if (base) outcome.baseImageDigest = base.record;
    if (this.options.push) await this.#push(plan, tags, outcome, log);
    else this.#localRefs.set(plan.id, tags);
    outcome.durationMs = Date.now() - started;
    return outcome;
  }

  /**
   * Push the first tag, record the digest the registry holds under it, and put the image's other tags
   * on it in the registry (a manifest PUT each, as for a reused image's new tags): a `docker push` per
   * tag would start a process and check every layer again for each.
   */
  async #push(plan: PlatformPlan, tags: string[], outcome: PlatformOutcome, log: LogSink): Promise<void> {
    const registry = this.options.registry as ManifestClient;
    const [first, ...others] = tags;
    if (!first) throw new Error(`build: ${plan.id} has no tag to push`);
    const { digest: cliDigest } = await this.#time('docker push', () => this.options.engine.push(first, log));
    const manifest = await this.#time('registry reads', () => registry.getManifest(first));
    if (cliDigest && cliDigest !== manifest.digest) {
      throw new Error(`${first} is ${manifest.digest} in the registry, but docker pushed ${cliDigest}: the tag moved during the push`);
    }
    if (isIndexMediaType(manifest.mediaType)) {
      throw new Error(`${first} was pushed as an index (${manifest.mediaType}), not as one platform's image; turn off build attestations`);
    }
    outcome.digest = pinnedReference(repositoryOfReference(first), manifest.digest);
    outcome.layers = manifestLayers(manifest.body);
    log.write(`imagewright: pushed ${outcome.digest}\n`);
    if (others.length === 0) return;
    await this.#time('registry tags', () => putUnderTags(registry, outcome.digest, manifest, others));
    log.write(`imagewright: tagged ${others.join(', ')} in the registry\n`);
  }

  /** The `--build-arg`s this platform's key covers, with their values. */
  #commandLineArgs(plan: PlatformPlan): Record<string, SecretValue> {
    const args: Record<string, SecretValue> = {};
    for (const name of plan.inputs.commandLineBuildArgs ?? []) {
      const value = this.options.commandLineBuildArgs?.get(name);
      if (!value) throw new Error(`build: the plan of ${plan.id} covers --build-arg ${name}, which this run was not given`);
      args[name] = value;
    }
    return args;
  }

  #upstreamImage(id: string): UpstreamImage | undefined {
    const outcome = this.#outcomes.get(id);
    if (!outcome) return undefined;
    const digest = digestOfReference(outcome.digest);
    return { digest, localRefs: this.#localRefs.get(id) ?? [] };
  }

  #qualified(plan: PlatformPlan, tag: string): string {
    return qualifiedTag(this.input.manifest, plan.platform.repo, tag);
  }

  /** Once every platform of the plan's image is done, publish its shared tags as one index. */
  #maybePublishIndex(plan: PlatformPlan): void {
    if (!this.#publishesIndexes() || plan.platform.sharedTags.length === 0) return;
    const image = this.#imageOf(plan);
    if (!image || !image.platforms.every((p) => this.#outcomes.has(p.id))) return;
    this.#indexes.push(this.#time('indexes', () => this.#publishIndex(plan, image)));
  }

  /** Images of this run with shared tags whose index could not be published, and why. */
  #unpublishedIndexes(): IndexOutcome[] {
    if (!this.#publishesIndexes()) return [];
    const problems: IndexOutcome[] = [];
    const seen = new Set<ManifestImage>();
    for (const plan of this.input.plan.platforms) {
      const image = this.#imageOf(plan);
      if (!image || seen.has(image) || image.sharedTags.length === 0) continue;
      seen.add(image);
      const missing = image.platforms.find((p) => !this.#outcomes.has(p.id));
      if (!missing) continue;
      const why = this.#byId.has(missing.id) ? `${missing.id} did not finish` : `${missing.id} is not part of this run`;
      problems.push(this.#reportIndex({ ...this.#indexProblem(plan, image, why), waitsFor: missing.id }));
    }
    return problems;
  }

  #publishesIndexes(): boolean {
    return this.options.push && this.options.registry !== undefined;
  }

  async #publishIndex(plan: PlatformPlan, image: ManifestImage): Promise<IndexOutcome> {
    const registry = this.options.registry as ManifestClient;
    const platforms = image.platforms.map((p) => indexPlatform(p, this.#outcomes.get(p.id)?.digest ?? ''));
    const unpushed = platforms.find((p) => !p.image);
    if (unpushed) return this.#reportIndex(this.#indexProblem(plan, image, 'a platform has no pushed image'));
    const which = { repo: plan.platform.repo, imageIndex: plan.platform.imageIndex };
    try {
      const published = await publishSharedTagIndex(registry, {
        platforms,
        sharedTags: image.sharedTags,
        tags: image.sharedTags.map((t) => this.#qualified(plan, t)),
        previous: this.options.previousIndex?.(which),
        putBack: this.input.plan.indexes.some((i) => i.repo === which.repo && i.imageIndex === which.imageIndex && i.reasons.some((r) => r.kind === 'index-tag-moved')),
        now: this.#now,
      });
      const outcome: IndexOutcome = { ...which, sharedTags: image.sharedTags, digest: published.digest };
      if (published.unchanged) return this.#reportIndex({ ...outcome, unchanged: true });
      await this.#serially(() => this.options.onIndexPublished?.(which, published.record));
      return this.#reportIndex(outcome);
    } catch (error) {
      const problem = this.#indexProblem(plan, image, oneLine(error instanceof Error ? error.message : String(error)));
      return this.#reportIndex({ ...problem, error });
    }
  }

  #indexProblem(plan: PlatformPlan, image: ManifestImage, problem: string): IndexOutcome {
    return { repo: plan.platform.repo, imageIndex: plan.platform.imageIndex, sharedTags: image.sharedTags, digest: '', problem };
  }

  #reportIndex(outcome: IndexOutcome): IndexOutcome {
    this.#progress.index(outcome);
    return outcome;
  }

  #imageOf(plan: PlatformPlan): ManifestImage | undefined {
    const repo = this.input.manifest.repos.find((r) => r.name === plan.platform.repo);
    return repo?.images[plan.platform.imageIndex];
  }

  #time<T>(phase: string, task: () => T | Promise<T>): Promise<T> {
    return this.options.timings ? this.options.timings.time(phase, task) : Promise.resolve(task());
  }

  #serially<T>(task: () => T | Promise<T>): Promise<T> {
    const next = this.#callbacks.then(task);
    this.#callbacks = next.catch(() => undefined);
    return next;
  }
}

function describePlan(plan: PlatformPlan, push: boolean): string {
  if (plan.decision === 'reuse') {
    if (!push) return 'reuse';
    const what = [...(plan.newTags.length > 0 ? [`add tags ${plan.newTags.join(', ')}`] : []), ...plan.movedTags.map((m) => `re-tag ${m.tag} (${m.detail})`)];
    return ['reuse', ...what].join(', ');
  }
  return `build: ${plan.reasons.map((r) => r.detail).join('; ') || 'requested'}`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** The last lines of a (closed, small-tailed) log file; '' when it cannot be read. */
function readTail(file: string, lines: number): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString('utf8').split('\n').slice(-lines - 1).join('\n');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.closed) resolve();
    else stream.end(() => resolve());
  });
}
