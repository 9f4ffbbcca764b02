/** Every platform's build key and the material it came from, computed once per plan, in build order. */
import { BUILD_KEY_VERSION, buildKey, type BuildKeyMaterial, type KeyRead } from '../build-key.js';
import type { BuildGraph, ClassifiedRead } from '../graph/types.js';
import { findPlatformRecord } from '../imageinfo/index.js';
import type { InputsRecord, PlatformRecord } from '../imageinfo/types.js';
import type { ManifestPlatform } from '../manifest/types.js';
import { formatPlatform, manifestTargetPlatform } from '../platform.js';
import type { ResolvedImage } from '../reference.js';
import type { SecretValue } from '../secret.js';
import type { PlanInput } from './types.js';

export interface KeyedPlatform {
  platform: ManifestPlatform;
  key: string;
  /** What `key` was computed from. */
  material: BuildKeyMaterial;
  /** Parallel to `material.reads`: how the graph classified each read (the upstream's id for internal ones). */
  reads: ClassifiedRead[];
  /** The material as the record keeps it (see recordedInputs). */
  inputs: InputsRecord;
  record: PlatformRecord | undefined;
  /** Why the whole context is keyed rather than what the Dockerfile's sources reach (ContextHash.whole). */
  wholeContext?: string;
}

export type KeyInput = Pick<PlanInput, 'graph' | 'platforms' | 'resolved' | 'previous' | 'commandLineBuildArgs'>;

/** Keyed platforms by id, in build order. */
export type Keys = ReadonlyMap<string, KeyedPlatform>;

export function computeKeys(input: KeyInput): Keys {
  const keyed = new Map<string, KeyedPlatform>();
  for (const platform of input.graph.order) {
    const sources = input.platforms.get(platform.id);
    if (!sources) throw new Error(`planner: no sources for platform ${platform.id}`);
    const reads = input.graph.reads.get(platform.id) ?? [];
    const commandLine = consumedBuildArgs(input.commandLineBuildArgs, platform.buildArgs, sources.analysis.argNames);
    const material: BuildKeyMaterial = {
      dockerfile: sources.dockerfileDigest,
      context: sources.context.digest,
      buildArgs: platform.buildArgs,
      // Canonical, so arm64 and arm64/v8 are one platform; Windows with its release (`windows(10.0.20348)/amd64`).
      platform: formatPlatform(manifestTargetPlatform(platform)),
      ...(sources.buildPlatform ? { buildPlatform: sources.buildPlatform } : {}),
      ...(commandLine.size > 0 ? { commandLineBuildArgs: commandLine } : {}),
      reads: reads.map((read) => keyRead(read, keyed, input.resolved)),
    };
    keyed.set(platform.id, {
      platform,
      key: buildKey(material),
      material,
      reads,
      inputs: recordedInputs(material, sources.context.files),
      record: findPlatformRecord(input.previous, platform.repo, platform),
      ...(sources.context.whole ? { wholeContext: sources.context.whole } : {}),
    });
  }
  return keyed;
}

/**
 * Build args every build sees without declaring them: BuildKit's own settings and the proxy
 * variables Docker predefines.
 */
const PREDEFINED_ARG = /^(?:BUILDKIT_.*|(?:HTTP|HTTPS|FTP|NO|ALL)_PROXY|(?:http|https|ftp|no|all)_proxy)$/;

/**
 * The `--build-arg`s one platform's build consumes, sorted by name: those its Dockerfile declares
 * with ARG (or predefined ones), unless the manifest sets the same name (the manifest wins, as in
 * ImageBuilder). Only these are passed to its build, so a build never sees a value its key lacks.
 */
export function consumedBuildArgs(
  commandLine: ReadonlyMap<string, SecretValue> | undefined,
  manifestArgs: Record<string, string>,
  declared: readonly string[] | undefined,
): Map<string, SecretValue> {
  const consumed = new Map<string, SecretValue>();
  for (const name of [...(commandLine?.keys() ?? [])].sort()) {
    if (Object.hasOwn(manifestArgs, name)) continue;
    if (declared && !declared.includes(name) && !PREDEFINED_ARG.test(name)) continue;
    consumed.set(name, commandLine?.get(name) as SecretValue);
  }
  return consumed;
}

/** The record's `inputs`, derived from the material: all but the reads, plus what explains a context change. */
function recordedInputs(material: BuildKeyMaterial, contextFiles: Record<string, string>): InputsRecord {
  const { reads: _recordedAsFromImages, commandLineBuildArgs, ...inputs } = material;
  // Their names only: the values entered the key and go nowhere else.
  const names = commandLineBuildArgs?.size ? { commandLineBuildArgs: [...commandLineBuildArgs.keys()] } : {};
  return { keyVersion: BUILD_KEY_VERSION, ...inputs, ...names, contextFiles };
}

function keyRead(read: ClassifiedRead, keyed: ReadonlyMap<string, KeyedPlatform>, resolved: PlanInput['resolved']): KeyRead {
  const source: KeyRead['source'] =
    read.internal !== undefined ? { kind: 'upstream', buildKey: upstreamKey(keyed, read.internal) } : { kind: 'image', digest: resolvedImage(resolved, read).digest };
  return { stage: read.read.stage, instruction: read.read.instruction, ref: read.ref, source };
}

export function resolvedImage(resolved: PlanInput['resolved'], read: ClassifiedRead): ResolvedImage {
  const at = read.source ?? read.ref;
  const image = resolved.get(resolutionKey(at, read.platform));
  if (!image) throw new Error(`planner: ${at} was not resolved for ${read.platform}`);
  return image;
}

function upstreamKey(keyed: ReadonlyMap<string, KeyedPlatform>, id: string): string {
  const upstream = keyed.get(id);
  // The graph orders upstreams first; a miss here is a bug in the graph, not in the input.
  if (!upstream) throw new Error(`planner: upstream ${id} is not keyed yet`);
  return upstream.key;
}

/** The key under which the shell stores the ResolvedImage of an external `ref` read for `platform`. */
export function resolutionKey(ref: string, platform: string): string {
  return `${ref} ${platform}`;
}

/**
 * The distinct external (reference, platform) pairs the shell must resolve, in build order. An image
 * redirected by the base override is resolved where the build reads it (its `source`).
 */
export function externalResolutions(graph: BuildGraph): Array<{ ref: string; platform: string }> {
  const seen = new Set<string>();
  const pairs: Array<{ ref: string; platform: string }> = [];
  for (const platform of graph.order) {
    for (const read of graph.reads.get(platform.id) ?? []) {
      const ref = read.source ?? read.ref;
      const key = resolutionKey(ref, read.platform);
      if (read.internal !== undefined || seen.has(key)) continue;
      seen.add(key);
      pairs.push({ ref, platform: read.platform });
    }
  }
  return pairs;
}
