/**
 * The imperative shell around the planner: reads the manifest, Dockerfiles and build contexts,
 * asks the registry for digests, reads the previous image-info, then hands everything to the pure
 * planner. All I/O for `plan` and `build` happens here, before any decision is made.
 */
import { readFile, stat } from 'node:fs/promises';
import { displayPath } from '../paths.js';
import { hashContext } from '../context/index.js';
import type { ContextHash } from '../context/types.js';
import type { MissingSource } from '../context/index.js';
import { analyzeDockerfile } from '../dockerfile/index.js';
import type { DockerfileAnalysis } from '../dockerfile/types.js';
import { digestOfReference, sha256Digest } from '../digest.js';
import { ImageNotFoundError, InputError, LabelError, PlatformNotFoundError } from '../errors.js';
import { DOCKER_LINE_MAX_BYTES, firstOverlongLine } from '../limit.js';
import { buildGraph } from '../graph/index.js';
import type { BuildGraph } from '../graph/types.js';
import { imageInfoForRun, readImageInfo, unmatchedImageInfoWarning } from '../imageinfo/index.js';
import type { ImageInfo, PlatformRecord } from '../imageinfo/types.js';
import { loadManifest } from '../manifest/index.js';
import { qualifiedTag, type Manifest, type ManifestPlatform } from '../manifest/types.js';
import { certainBuilds, computeKeys, externalResolutions, planBuilds, pushCandidates, recordedIndexes, resolutionKey, reusable, reuseCandidates } from '../plan/index.js';
import type { RecordedIndexCheck } from '../plan/index.js';
import type { Plan, PlanInput, PlatformSources, PushedImage } from '../plan/types.js';
import { formatPlatformForBuild, parsePlatform, type IndexEntry, type TargetPlatform } from '../platform.js';
import { isIndexMediaType } from '../registry/index.js';
import type { RegistryReader, ResolvedImage } from '../registry/types.js';
import { enginePlatformProvider, type BuildPlatformSource } from './build-platform.js';
import type { SecretValue } from '../secret.js';
import { readImageInfoFromRegistry, recordAt, type LabelReader } from './registry-state.js';

export interface LoadedRepository {
  manifest: Manifest;
  graph: BuildGraph;
  sources: Map<string, PlatformSources>;
}

export interface LoadOptions {
  manifestFile: string;
  vars?: Record<string, string>;
  registryOverride?: string;
  repoPrefix?: string;
  baseOverrideRegex?: string;
  baseOverrideSub?: string;
  warn?: (message: string) => void;
  /** The image-info files this run reads or writes: never part of a build context (context/own.ts). */
  imageInfoFiles?: readonly string[];
  /** Skip hashing build contexts (the `graph` command needs only the Dockerfiles). */
  skipContexts?: boolean;
  /**
   * The engine's platform (BUILDPLATFORM), or how to get it; asked only when a Dockerfile depends on
   * it. Default: the Docker engine's, else this machine's (with a warning).
   */
  buildPlatform?: BuildPlatformSource;
  /** `--build-arg` values: they enter keys, never image references or records. */
  commandLineBuildArgs?: ReadonlyMap<string, SecretValue>;
}

/** Manifest, Dockerfile analyses and the graph: everything that needs only the file system. */
export async function loadRepository(options: LoadOptions): Promise<LoadedRepository> {
  const manifest = await loadManifest(options.manifestFile, {
    vars: options.vars ?? {},
    warn: options.warn,
    registryOverride: options.registryOverride,
    repoPrefix: options.repoPrefix,
    baseOverrideRegex: options.baseOverrideRegex,
    baseOverrideSub: options.baseOverrideSub,
  });
  const platforms = manifest.repos.flatMap((r) => r.images.flatMap((i) => i.platforms));
  const dockerfileTexts = new Map<string, Promise<Buffer>>();
  const readOnce = (path: string): Promise<Buffer> => {
    let text = dockerfileTexts.get(path);
    if (!text) {
      text = readDockerfile(path);
      dockerfileTexts.set(path, text);
    }
    return text;
  };
  const analyses = new Map<string, DockerfileAnalysis>();
  const warned = new Set<string>();
  const buildPlatform = enginePlatformProvider(options.buildPlatform, options.warn);
  const sources = new Map<string, PlatformSources>();
  await Promise.all(
    platforms.map(async (platform) => {
      const bytes = await readOnce(platform.dockerfilePath);
      const analyze = (build: TargetPlatform | undefined, commandLine: Record<string, string> = {}): DockerfileAnalysis =>
        analyzeDockerfile(bytes.toString('utf8'), {
          file: displayPath(platform.dockerfilePath),
          buildArgs: { ...commandLine, ...platform.buildArgs },
          ...(options.commandLineBuildArgs?.size ? { opaqueArgs: [...options.commandLineBuildArgs.keys()] } : {}),
          platform: { os: platform.os, architecture: platform.architecture, variant: platform.variant },
          ...(build ? { buildPlatform: build } : {}),
        });
      let analysis = analyze(undefined);
      // Only a Dockerfile that depends on the build host's platform makes the engine be asked for it.
      let engine: TargetPlatform | undefined;
      if (analysis.buildPlatformDependent) {
        engine = await buildPlatform();
        analysis = analyze(engine);
      }
      if (options.commandLineBuildArgs?.size) checkReadsIgnore(options.commandLineBuildArgs, analysis, platform, (args) => analyze(engine, args));
      analyses.set(platform.id, analysis);
      // One Dockerfile may serve several platforms; say each thing once.
      const warnOnce = (message: string): void => {
        if (!warned.has(message)) options.warn?.(message);
        warned.add(message);
      };
      for (const warning of analysis.warnings ?? []) warnOnce(`${displayPath(platform.dockerfilePath)}: ${warning}`);
      const context: ContextHash = options.skipContexts
        ? { digest: '', files: {}, ownFiles: [] }
        : await hashContext(platform.contextDir, platform.dockerfilePath, {
            imageInfoFiles: options.imageInfoFiles ?? [],
            ...(analysis.context ? { use: analysis.context } : {}),
            ignoreCase: platform.os === 'windows',
          });
      for (const missing of context.missing ?? []) warnOnce(missingSourceWarning(platform, missing));
      sources.set(platform.id, { analysis, dockerfileDigest: sha256Digest(bytes), context, ...(engine ? { buildPlatform: formatPlatformForBuild(engine) } : {}) });
    }),
  );
  const graph = buildGraph(manifest, analyses);
  return { manifest, graph, sources };
}

/** The largest Dockerfile read (real ones are a few KB); its parser's memory grows with the size. */
export const DOCKERFILE_MAX_BYTES = 1024 * 1024;

/** A Dockerfile's bytes, refused before parsing when larger than Docker or a sane repository allows. */
async function readDockerfile(path: string): Promise<Buffer> {
  const shown = displayPath(path);
  let bytes: Buffer;
  try {
    const { size } = await stat(path);
    if (size > DOCKERFILE_MAX_BYTES) throw new InputError(shown, undefined, `Dockerfile is larger than ${DOCKERFILE_MAX_BYTES} bytes`);
    bytes = await readFile(path);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(shown, undefined, `cannot read Dockerfile: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const overlong = firstOverlongLine(bytes);
  if (overlong !== undefined) {
    throw new InputError(shown, `line ${overlong}`, `line is longer than ${DOCKER_LINE_MAX_BYTES} bytes (Docker's parser refuses it too)`);
  }
  return bytes;
}

/** A source the build would not find: often a file the pipeline stages into the context before building. */
function missingSourceWarning(platform: ManifestPlatform, { source, why }: MissingSource): string {
  const instruction = source.instruction === 'MOUNT' ? 'RUN --mount=type=bind,source=' : `${source.instruction} `;
  const problem = why === 'ignored' ? `is left out by the context's ignore file` : `is not in the build context ${displayPath(platform.contextDir)}`;
  return (
    `${displayPath(platform.dockerfilePath)}: line ${source.line}: ${instruction}${source.written} ${problem}, so the build would fail and its content is not keyed; ` +
    'if the pipeline stages it before building, stage it before plan too (docs/decisions.md, "Files staged into a context")'
  );
}

export interface PlanOptions extends LoadOptions {
  imageInfoFile: string | undefined;
  noCache?: boolean;
  /**
   * Where the previous run's records come from: the image-info file when one is named (a missing
   * file means everything is new), otherwise the labels of the images the registry's tags point at.
   */
  registry: RegistryReader & LabelReader;
  /**
   * Called once, when the keys are known and before the registry is asked whether recorded images
   * still exist, with the platforms that build whatever it answers (certainBuilds), if any: `build`
   * gets the engine ready meanwhile. Nothing is decided or built before the whole plan is known.
   */
  onCertainBuilds?: (platforms: readonly ManifestPlatform[]) => void;
  /**
   * A leg of a matrix plan (`build --leg --plan`): look at the tags of its platforms that would build
   * for the images an earlier attempt of the same leg pushed (a re-run has no leg file of its first
   * attempt), and take those whose labels carry this plan's id and the computed build key
   * (PlanInput.pushed). Only the plan's own images are taken: an image someone else put at the tag,
   * whatever its labels claim of build keys, is built over.
   */
  earlierAttempts?: EarlierAttempts;
}

export interface EarlierAttempts {
  /** The matrix plan's id, which every image of its legs carries (LABEL_PLAN). */
  planId: string;
  /** The leg's platforms, from the graph (the leg is chosen from it alone). */
  platforms: (graph: BuildGraph) => ReadonlySet<string>;
}

export interface PlanResult extends LoadedRepository {
  previous: ImageInfo | undefined;
  /** `previous` is the image-info file's content as read (no repo renamed on the way): the build's store takes it rather than parsing the file again. */
  previousAsInFile: boolean;
  input: PlanInput;
  plan: Plan;
}

/** Gather every input, then plan. Resolves each distinct external reference once. */
export async function planRepository(options: PlanOptions): Promise<PlanResult> {
  const repo = await loadRepository({ ...options, imageInfoFiles: [...(options.imageInfoFiles ?? []), ...(options.imageInfoFile ? [options.imageInfoFile] : [])] });
  const fromLabels = !options.imageInfoFile;
  let previousAsInFile = false;
  const [previous, resolved] = await Promise.all([
    options.imageInfoFile
      ? readImageInfo(options.imageInfoFile).then((info) => {
          const renamed = info && imageInfoForRun(info, repo.manifest);
          previousAsInFile = info !== undefined && renamed === info;
          return renamed;
        })
      : readImageInfoFromRegistry(repo.manifest, options.registry),
    resolveExternal(repo.graph, options.registry),
  ]);
  const partial: Omit<PlanInput, 'existing'> = {
    manifest: repo.manifest,
    graph: repo.graph,
    platforms: repo.sources,
    resolved,
    previous,
    noCache: options.noCache ?? false,
    commandLineBuildArgs: options.commandLineBuildArgs,
  };
  // Keyed once: the keys say which recorded images to look for, then decide.
  const keys = computeKeys(partial);
  const certain = options.onCertainBuilds ? certainBuilds(partial, keys) : [];
  if (certain.length > 0) options.onCertainBuilds?.(certain);
  if (options.imageInfoFile && previous) {
    const matched = [...keys.values()].filter((k) => k.record !== undefined).length;
    const warning = unmatchedImageInfoWarning(displayPath(options.imageInfoFile), previous, repo.manifest, matched);
    if (warning) options.warn?.(warning);
  }
  // Records read back from labels were just fetched from the registry, through the tags: their images exist, and they list the tags naming them.
  const existing = new Set<string>(fromLabels ? recordedDigests(previous) : []);
  const tags = new Map<string, string>();
  const pushed = new Map<string, PushedImage>();
  const reuseChecks = reuseCandidates(partial, keys)
    .filter((check) => !existing.has(check.digest))
    .map(async (check) => {
      // One request when all is well: the tag names the recorded image. A moved tag costs a second, for the image.
      if (check.tag !== undefined) {
        const found = (await options.registry.headManifest(check.tag))?.digest ?? '';
        tags.set(check.tag, found);
        if (found === digestOfReference(check.digest)) {
          existing.add(check.digest);
          return;
        }
      }
      if (await options.registry.exists(check.digest)) existing.add(check.digest);
    });
  // What an earlier attempt of this leg pushed: one HEAD per platform of the leg to rebuild, more only
  // when its tag names another image than the record. Records read from labels came through the tags already.
  const attempts = options.earlierAttempts && !fromLabels ? options.earlierAttempts : undefined;
  const leg = attempts?.platforms(repo.graph) ?? new Set<string>();
  const take = async (id: string, tag: string): Promise<void> => {
    const platform = keys.get(id)?.platform;
    if (!attempts || !platform) return;
    const image = await pushedImage(repo.manifest, platform, attempts.planId, options.registry);
    if (!image) return;
    pushed.set(id, { tag, record: image });
    existing.add(image.digest);
  };
  const pushChecks = pushCandidates(partial, keys)
    .filter((candidate) => leg.has(candidate.id))
    .map(async (candidate) => {
      const found = (await options.registry.headManifest(candidate.tag))?.digest ?? '';
      tags.set(candidate.tag, found);
      if (found && found !== candidate.recorded) await take(candidate.id, candidate.tag);
    });
  await Promise.all([...reuseChecks, ...pushChecks]);
  // A recorded image gone from the registry (its platform rebuilds with the same key): its first attempt may have pushed that rebuild.
  await Promise.all(
    [...keys.values()]
      .filter(({ platform, key, record }) => leg.has(platform.id) && reusable(key, record) && !existing.has(record?.digest ?? '') && platform.tags[0] !== undefined)
      .map(({ platform }) => take(platform.id, qualifiedTag(repo.manifest, platform.repo, platform.tags[0] as string))),
  );
  const input: PlanInput = { ...partial, existing, tags, pushed, indexes: await readIndexes(recordedIndexes(repo.manifest, previous), options.registry, tags) };
  return { ...repo, previous, previousAsInFile, input, plan: planBuilds(input, keys) };
}

/**
 * The record the labels of the image at the platform's first tag carry, when they say a leg of plan
 * `planId` built it. Anything else there (made by hand, by another plan, or unreadable: labels or a
 * config that do not parse, nothing of the platform's architecture) is not taken: the platform builds over it.
 */
async function pushedImage(manifest: Manifest, platform: ManifestPlatform, planId: string, registry: LabelReader): Promise<PlatformRecord | undefined> {
  try {
    const found = await recordAt(manifest, platform, platform.tags[0] ?? '', registry);
    return found?.plan === planId ? found.record : undefined;
  } catch (err) {
    if (err instanceof LabelError || err instanceof SyntaxError || err instanceof ImageNotFoundError) return undefined;
    throw err;
  }
}

/**
 * The entries of each recorded index, or null for an index the registry does not have; what each
 * checked shared tag names goes into `tags` ('' for none). One GET per index when its tag names it.
 */
async function readIndexes(checks: readonly RecordedIndexCheck[], registry: LabelReader, tags: Map<string, string>): Promise<Map<string, readonly IndexEntry[] | null>> {
  const indexes = new Map<string, readonly IndexEntry[] | null>();
  await Promise.all(
    checks.map(async ({ digest: ref, tag }) => {
      try {
        let answer = tag === undefined ? undefined : await registry.getManifest(tag).catch((err: unknown) => {
          if (err instanceof ImageNotFoundError) return undefined;
          throw err;
        });
        if (tag !== undefined) tags.set(tag, answer?.digest ?? '');
        if (answer?.digest !== digestOfReference(ref)) answer = await registry.getManifest(ref);
        const { body, mediaType } = answer;
        // A recorded digest that names a single image lists none of the platforms.
        const entries = isIndexMediaType(mediaType) ? ((JSON.parse(body.toString('utf8')) as { manifests?: IndexEntry[] }).manifests ?? []) : [];
        indexes.set(ref, entries);
      } catch (err) {
        if (err instanceof ImageNotFoundError) indexes.set(ref, null);
        else throw err;
      }
    }),
  );
  return indexes;
}

/**
 * Image references are recorded (image-info, labels, the plan), so a `--build-arg` value must not
 * reach one: the Dockerfile is analyzed again with the values, and a read that differs is refused,
 * naming the line and the build args but never their values.
 */
function checkReadsIgnore(
  commandLine: ReadonlyMap<string, SecretValue>,
  analysis: DockerfileAnalysis,
  platform: ManifestPlatform,
  analyzeWith: (commandLine: Record<string, string>) => DockerfileAnalysis,
): void {
  const revealed = Object.fromEntries([...commandLine].map(([name, value]) => [name, value.reveal()]));
  let withValues: DockerfileAnalysis | undefined;
  try {
    withValues = analyzeWith(revealed);
  } catch {
    // Its message could quote a value; the difference itself is what matters.
  }
  const index = analysis.reads.findIndex((read, i) => read.ref !== withValues?.reads[i]?.ref);
  const differs = index >= 0 || withValues === undefined || withValues.reads.length !== analysis.reads.length;
  if (!differs) return;
  const line = analysis.reads[index >= 0 ? index : 0]?.line;
  throw new InputError(
    displayPath(platform.dockerfilePath),
    line ? `line ${line}` : undefined,
    `an image reference depends on --build-arg ${[...commandLine.keys()].join(', ')}; image references are recorded, ` +
      "so set such a build arg in the manifest's buildArgs (or through --var) instead",
  );
}

function recordedDigests(info: ImageInfo | undefined): string[] {
  return (info?.repos ?? []).flatMap((r) => r.images.flatMap((i) => i.platforms.map((p) => p.digest))).filter((d) => d !== '');
}

async function resolveExternal(graph: BuildGraph, registry: RegistryReader): Promise<Map<string, ResolvedImage>> {
  const resolved = new Map<string, ResolvedImage>();
  await Promise.all(
    externalResolutions(graph).map(async ({ ref, platform }) => {
      const target = parsePlatform(platform);
      if (!target) throw new Error(`internal: unreadable platform ${platform}`);
      const image = await registry.resolve(ref, target).catch((err: unknown) => {
        // A reference to nothing, or to an index without the platform, is a mistake in a Dockerfile (a typo, a
        // tag not pushed yet, a base without that architecture), not a registry failure.
        if (err instanceof ImageNotFoundError) throw readError(graph, ref, undefined, (image) => `image ${image} does not exist in its registry`);
        if (err instanceof PlatformNotFoundError) {
          throw readError(graph, ref, platform, (image) => `image ${image} has no ${err.platform} image: ${err.problem}`);
        }
        throw err;
      });
      resolved.set(resolutionKey(ref, platform), image);
    }),
  );
  return resolved;
}

/** Names the first Dockerfile line, in build order, that reads `ref` (for `platform`, when given). */
function readError(graph: BuildGraph, ref: string, platform: string | undefined, problem: (image: string) => string): Error {
  for (const manifestPlatform of graph.order) {
    const read = graph.reads.get(manifestPlatform.id)?.find((r) => (r.source ?? r.ref) === ref && r.internal === undefined && (platform === undefined || r.platform === platform));
    if (!read) continue;
    const written = problem(read.read.ref === ref ? ref : `${read.read.ref} (${ref})`);
    // Line 0: the frontend came from the BUILDKIT_SYNTAX build arg, which the manifest sets.
    if (read.read.line === 0) {
      const { file, path, line } = manifestPlatform.location;
      return new InputError(displayPath(file), `${path}.buildArgs.BUILDKIT_SYNTAX${line ? ` (line ${line})` : ''}`, written);
    }
    return new InputError(displayPath(manifestPlatform.dockerfilePath), `line ${read.read.line}`, written);
  }
  return new ImageNotFoundError(ref);
}
