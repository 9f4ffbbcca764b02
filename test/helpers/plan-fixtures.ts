/**
 * Small constructors for graph and planner tests: a manifest from a compact description, Dockerfile
 * analyses from stage lists, and a `World` that holds every input the shell would gather (Dockerfile
 * digests, contexts, registry answers) and plays the shell's part of recording what was built.
 */
import { createHash } from 'node:crypto';
import type { ContextHash } from '../../src/context/types.js';
import type { DockerfileAnalysis, ImageRead, ReadInstruction, Stage, StageBase } from '../../src/dockerfile/types.js';
import { buildGraph } from '../../src/graph/index.js';
import type { BuildGraph } from '../../src/graph/types.js';
import type { ImageInfo, PlatformRecord } from '../../src/imageinfo/types.js';
import type { Manifest, ManifestImage, ManifestPlatform, ManifestRepo } from '../../src/manifest/types.js';
import { externalResolutions, planBuilds, resolutionKey, reuseCandidates } from '../../src/plan/index.js';
import type { Plan, PlanInput, PlatformSources } from '../../src/plan/types.js';
import type { ResolvedImage } from '../../src/registry/types.js';
import { digestOfReference } from '../../src/digest.js';
import type { IndexEntry } from '../../src/platform.js';
import type { SecretValue } from '../../src/secret.js';

export const REGISTRY = '127.0.0.1:5000';

export function sha(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

// ---------------------------------------------------------------- manifest

export interface PlatformSpec {
  dockerfile: string;
  tags?: string[];
  os?: string;
  osVersion?: string;
  architecture?: string;
  variant?: string;
  buildArgs?: Record<string, string>;
}

export interface ImageSpec {
  sharedTags?: string[];
  platforms: PlatformSpec[];
}

export interface RepoSpec {
  name: string;
  images: ImageSpec[];
}

export function makeManifest(repos: RepoSpec[], registry = REGISTRY, location: Manifest['location'] = { registry, repoPrefix: '' }): Manifest {
  const file = '/repo/manifest.json';
  return {
    file,
    dir: '/repo',
    registry,
    location,
    variables: {},
    repos: repos.map((repo, r): ManifestRepo => ({
      name: repo.name,
      location: { file, path: `repos[${r}]` },
      images: repo.images.map((image, i): ManifestImage => {
        const sharedTags = image.sharedTags ?? [];
        return {
          sharedTags,
          location: { file, path: `repos[${r}].images[${i}]` },
          platforms: image.platforms.map((spec, p) => makePlatform(repo.name, i, p, spec, sharedTags, `repos[${r}].images[${i}].platforms[${p}]`)),
        };
      }),
    })),
  };
}

function makePlatform(repo: string, imageIndex: number, platformIndex: number, spec: PlatformSpec, sharedTags: string[], path: string): ManifestPlatform {
  const tags = spec.tags ?? [];
  const os = spec.os ?? 'linux';
  const architecture = spec.architecture ?? 'amd64';
  const dockerfile = spec.dockerfile.endsWith('Dockerfile') ? spec.dockerfile : `${spec.dockerfile}/Dockerfile`;
  const platformPart = [os, architecture, spec.variant].filter(Boolean).join('/');
  const id = tags[0] !== undefined ? `${repo}:${tags[0]}` : `${repo}:${sharedTags[0] ?? '?'}@${platformPart}`;
  const platform: ManifestPlatform = {
    id,
    repo,
    imageIndex,
    platformIndex,
    dockerfile,
    dockerfilePath: `/repo/${dockerfile}`,
    contextDir: `/repo/${dockerfile.slice(0, dockerfile.lastIndexOf('/'))}`,
    os,
    osVersion: spec.osVersion ?? 'bookworm',
    architecture,
    buildArgs: spec.buildArgs ?? {},
    tags,
    sharedTags,
    location: { file: '/repo/manifest.json', path },
  };
  if (spec.variant) platform.variant = spec.variant;
  return platform;
}

/** Shorthand for the common case: one repo, one platform per image. */
export function simpleManifest(repo: string, images: Array<{ tag: string; dockerfile: string } & PlatformSpec>, registry = REGISTRY): Manifest {
  return makeManifest([{ name: repo, images: images.map(({ tag, ...spec }) => ({ platforms: [{ ...spec, tags: [tag, ...(spec.tags ?? [])] }] })) }], registry);
}

export function platformsOf(manifest: Manifest): ManifestPlatform[] {
  return manifest.repos.flatMap((r) => r.images.flatMap((i) => i.platforms));
}

// ---------------------------------------------------------------- Dockerfile analyses

export interface StageSpec {
  name?: string;
  /** An image reference, `stage:<name or index>` for an earlier stage, or `scratch`. */
  from: string;
  /** FROM --platform. */
  platform?: string;
  copyFrom?: string[];
  addFrom?: string[];
  mountFrom?: string[];
  onbuildFrom?: string[];
  /** Default true; the analyzer decides this from the final stage. */
  reachable?: boolean;
}

/** An analysis as the Dockerfile analyzer would produce it for the stages listed (one instruction per line). */
export function analysis(stages: StageSpec[], syntax?: string): DockerfileAnalysis {
  const built: Stage[] = [];
  const reads: ImageRead[] = [];
  let line = 1;
  if (syntax) reads.push({ stage: '', stageIndex: -1, instruction: 'SYNTAX', ref: syntax, line: line++ });
  stages.forEach((spec, index) => {
    const stageName = spec.name ?? String(index);
    const base = stageBase(spec.from, built);
    const stage: Stage = { index, base, line, reachable: spec.reachable ?? true };
    if (spec.name) stage.name = spec.name;
    if (spec.platform) stage.platform = spec.platform;
    built.push(stage);
    const reachable = stage.reachable;
    const add = (instruction: ReadInstruction, ref: string, at: number): void => {
      if (!reachable) return;
      const read: ImageRead = { stage: stageName, stageIndex: index, instruction, ref, line: at };
      if (spec.platform && instruction === 'FROM') read.platform = spec.platform;
      reads.push(read);
    };
    if (base.kind === 'image') add('FROM', base.ref, line);
    line++;
    for (const ref of spec.copyFrom ?? []) add('COPY', ref, line++);
    for (const ref of spec.addFrom ?? []) add('ADD', ref, line++);
    for (const ref of spec.mountFrom ?? []) add('MOUNT', ref, line++);
    for (const ref of spec.onbuildFrom ?? []) add('ONBUILD', ref, line++);
  });
  const result: DockerfileAnalysis = { stages: built, reads };
  if (syntax) result.syntax = syntax;
  return result;
}

function stageBase(from: string, earlier: Stage[]): StageBase {
  if (from === 'scratch') return { kind: 'scratch' };
  if (from.startsWith('stage:')) {
    const name = from.slice('stage:'.length);
    const stage = earlier.find((s) => s.name === name || String(s.index) === name);
    if (!stage) throw new Error(`fixture: no stage ${name}`);
    return { kind: 'stage', index: stage.index };
  }
  return { kind: 'image', ref: from };
}

/** One stage FROM `ref`. */
export function fromOnly(ref: string): DockerfileAnalysis {
  return analysis([{ from: ref }]);
}

// ---------------------------------------------------------------- the world the shell sees

/**
 * All inputs of a plan, mutable between plans: tests change one thing and plan again. External images
 * resolve to a digest derived from (ref, platform, version); `bumpExternal` publishes a new version.
 */
export class World {
  readonly dockerfileDigests = new Map<string, string>();
  readonly contexts = new Map<string, Record<string, string>>();
  /** Platforms whose whole context is keyed, with the reason (ContextHash.whole). */
  readonly wholeContexts = new Map<string, string>();
  readonly externalVersions = new Map<string, number>();
  /** Registry answers: normalized ref + platform → digest; overrides the derived digests. */
  readonly pinned = new Map<string, string>();
  /** Every resolution the planner asked for in the last plan. */
  lastResolutions: Array<{ ref: string; platform: string }> = [];
  noCache = false;
  /** What the registry holds under each published index digest (filled by carryOut); null: deleted. */
  readonly publishedIndexes = new Map<string, IndexEntry[] | null>();
  /** `--build-arg`s of the run. */
  commandLineBuildArgs: Map<string, SecretValue> | undefined;
  /** Tags moved in the registry: qualified tag → the `sha256:…` it names now ('' when deleted). */
  readonly movedTags = new Map<string, string>();

  constructor(
    public manifest: Manifest,
    public analyses: Map<string, DockerfileAnalysis>,
  ) {
    for (const p of platformsOf(manifest)) {
      this.dockerfileDigests.set(p.id, sha(`Dockerfile of ${p.dockerfile}`));
      this.contexts.set(p.id, { 'app.sh': sha(`app.sh of ${p.dockerfile}`) });
    }
  }

  static of(manifest: Manifest, analyses: Record<string, DockerfileAnalysis>): World {
    return new World(manifest, new Map(Object.entries(analyses)));
  }

  graph(): BuildGraph {
    return buildGraph(this.manifest, this.analyses);
  }

  changeDockerfile(id: string, salt = 'changed'): void {
    this.dockerfileDigests.set(id, sha(`${this.dockerfileDigests.get(id)}${salt}`));
  }

  setContextFile(id: string, file: string, digest: string | undefined): void {
    const files = { ...this.contexts.get(id) };
    if (digest === undefined) delete files[file];
    else files[file] = digest;
    this.contexts.set(id, files);
  }

  setBuildArg(id: string, name: string, value: string | undefined): void {
    const platform = platformsOf(this.manifest).find((p) => p.id === id);
    if (!platform) throw new Error(`fixture: no platform ${id}`);
    const args = { ...platform.buildArgs };
    if (value === undefined) delete args[name];
    else args[name] = value;
    platform.buildArgs = args;
  }

  /** Publish a new version of an external image (normalized ref), for every platform. */
  bumpExternal(ref: string): void {
    this.externalVersions.set(ref, (this.externalVersions.get(ref) ?? 0) + 1);
  }

  externalDigest(ref: string, platform: string): string {
    return this.pinned.get(resolutionKey(ref, platform)) ?? sha(`${ref} for ${platform} v${this.externalVersions.get(ref) ?? 0}`);
  }

  sources(): Map<string, PlatformSources> {
    const sources = new Map<string, PlatformSources>();
    for (const p of platformsOf(this.manifest)) {
      const files = this.contexts.get(p.id) ?? {};
      const analysis = this.analyses.get(p.id);
      if (!analysis) throw new Error(`fixture: no analysis for ${p.id}`);
      const whole = this.wholeContexts.get(p.id);
      const context: ContextHash = { digest: sha(JSON.stringify(Object.entries(files).sort())), files, ...(whole ? { whole } : {}) };
      sources.set(p.id, { analysis, dockerfileDigest: this.dockerfileDigests.get(p.id) ?? '', context });
    }
    return sources;
  }

  /** What the shell hands the planner; `existing` defaults to every reuse candidate (the registry has them all). */
  input(previous: ImageInfo | undefined, missing: string[] = []): PlanInput {
    const graph = this.graph();
    this.lastResolutions = externalResolutions(graph);
    const resolved = new Map<string, ResolvedImage>();
    for (const { ref, platform } of this.lastResolutions) {
      resolved.set(resolutionKey(ref, platform), { ref, digest: this.externalDigest(ref, platform), mediaType: 'application/vnd.oci.image.manifest.v1+json' });
    }
    const partial = {
      manifest: this.manifest,
      graph,
      platforms: this.sources(),
      resolved,
      previous,
      noCache: this.noCache,
      commandLineBuildArgs: this.commandLineBuildArgs,
    };
    const checks = reuseCandidates(partial);
    const existing = new Set(checks.map((c) => c.digest).filter((d) => !missing.includes(d)));
    // Each checked tag names its recorded image, unless the test moved it.
    const tags = new Map(checks.flatMap((c) => (c.tag === undefined ? [] : [[c.tag, this.movedTags.get(c.tag) ?? digestOfReference(c.digest)] as const])));
    return { ...partial, existing, tags, indexes: this.publishedIndexes };
  }

  plan(previous: ImageInfo | undefined, missing: string[] = []): Plan {
    return planBuilds(this.input(previous, missing));
  }

  /** Plan from nothing and record the result: the state after a first full build. */
  baseline(): ImageInfo {
    return this.carryOut(this.plan(undefined));
  }

  /** Record `plan` as carried out (see recordBuild), shared-tag indexes published as `build --push` does. */
  carryOut(plan: Plan, buildNumber = 1): ImageInfo {
    const info = recordBuild(plan, this.graph(), this.manifest, buildNumber);
    this.manifest.repos.forEach((repo, r) => {
      repo.images.forEach((image, i) => {
        const record = info.repos[r]?.images[i];
        if (!record || image.sharedTags.length === 0) return;
        const entries: IndexEntry[] = image.platforms.map((p, n) => ({
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: digestOfReference(record.platforms[n]?.digest ?? ''),
          platform: { os: p.os, architecture: p.architecture, ...(p.variant ? { variant: p.variant } : {}) },
        }));
        const digest = `${this.manifest.registry}/${repo.name}@${sha(JSON.stringify(entries))}`;
        this.publishedIndexes.set(digest, entries);
        record.manifest = { digest, sharedTags: [...image.sharedTags] };
      });
    });
    return info;
  }
}

// ---------------------------------------------------------------- recording builds

/**
 * The image-info the shell writes after carrying out `plan`: built platforms get a fresh digest,
 * reused ones keep theirs (plus new tags); internal reads get the upstream's digest as built.
 */
export function recordBuild(plan: Plan, graph: BuildGraph, manifest: Manifest, buildNumber = 1): ImageInfo {
  const digests = new Map<string, string>();
  const records = new Map<string, PlatformRecord>();
  for (const p of plan.platforms) {
    const digest =
      p.decision === 'reuse' && p.previous ? p.previous.digest : `${manifest.registry}/${p.platform.repo}@${sha(`${p.buildKey} build ${buildNumber}`)}`;
    digests.set(p.id, digest);
    const record: PlatformRecord = {
      dockerfile: p.dockerfile,
      simpleTags: [...p.tags],
      digest,
      osType: p.platform.os === 'windows' ? 'Windows' : 'Linux',
      osVersion: p.platform.osVersion,
      architecture: p.platform.architecture,
      buildKey: p.buildKey,
      fromImages: p.fromImages.map((f, i) => {
        const upstreamId = graph.reads.get(p.id)?.[i]?.internal;
        const upstreamDigest = upstreamId !== undefined ? digests.get(upstreamId) ?? '' : '';
        return f.internal ? { ...f, digest: upstreamDigest.slice(upstreamDigest.indexOf('@') + 1) } : { ...f };
      }),
      inputs: structuredClone(p.inputs),
    };
    if (p.platform.variant) record.variant = p.platform.variant;
    records.set(p.id, record);
  }
  return {
    schemaVersion: '2.0',
    repos: manifest.repos.map((repo) => ({
      repo: repo.name,
      images: repo.images.map((image) => ({
        platforms: image.platforms.map((p) => records.get(p.id)).filter((r): r is PlatformRecord => r !== undefined),
      })),
    })),
  };
}

/** The same image-info as ImageBuilder would have written it: no imagewright additions, display names. */
export function asImageBuilderRecords(info: ImageInfo): ImageInfo {
  const copy = structuredClone(info);
  for (const record of copy.repos.flatMap((r) => r.images.flatMap((i) => i.platforms))) {
    delete record.buildKey;
    delete record.fromImages;
    delete record.inputs;
    record.osVersion = 'Debian 12';
    record.dockerfile = record.dockerfile.replace(/\/Dockerfile$/, '');
    if (record.variant) {
      record.architecture = `${record.architecture === 'arm' ? 'arm32' : record.architecture}${record.variant}`;
      delete record.variant;
    }
  }
  return copy;
}

export function recordOf(info: ImageInfo, id: string, manifest: Manifest): PlatformRecord {
  const platform = platformsOf(manifest).find((p) => p.id === id);
  if (!platform) throw new Error(`fixture: no platform ${id}`);
  const record = info.repos.find((r) => r.repo === platform.repo)?.images[platform.imageIndex]?.platforms[platform.platformIndex];
  if (!record) throw new Error(`fixture: no record for ${id}`);
  return record;
}

// ---------------------------------------------------------------- reading plans

export function building(plan: Plan): string[] {
  return plan.platforms.filter((p) => p.decision === 'build').map((p) => p.id);
}

export function planOf(plan: Plan, id: string): Plan['platforms'][number] {
  const found = plan.platforms.find((p) => p.id === id);
  if (!found) throw new Error(`no plan for ${id}`);
  return found;
}

export function reasonKinds(plan: Plan, id: string): string[] {
  return planOf(plan, id).reasons.map((r) => r.kind);
}
