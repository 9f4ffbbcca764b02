/** Every platform's build key and the material it came from, computed in build order. */
import type { BuildGraph, ClassifiedRead } from '../graph/types.js';
import { findPlatformRecord } from '../imageinfo/index.js';
import type { InputsRecord, PlatformRecord } from '../imageinfo/types.js';
import type { ManifestPlatform } from '../manifest/types.js';
import { formatPlatform, manifestTargetPlatform } from '../platform.js';
import type { ResolvedImage } from '../registry/types.js';
import { buildKey, resolutionKey, type KeyRead } from './key.js';
import type { PlanInput } from './types.js';

export interface KeyedPlatform {
  platform: ManifestPlatform;
  key: string;
  reads: ClassifiedRead[];
  /** Parallel to `reads`: what entered the key for each. */
  keyReads: KeyRead[];
  inputs: InputsRecord;
  record: PlatformRecord | undefined;
}

export type KeyInput = Pick<PlanInput, 'graph' | 'platforms' | 'resolved' | 'previous'>;

export function computeKeys(input: KeyInput): Map<string, KeyedPlatform> {
  const keyed = new Map<string, KeyedPlatform>();
  for (const platform of input.graph.order) {
    const sources = input.platforms.get(platform.id);
    if (!sources) throw new Error(`planner: no sources for platform ${platform.id}`);
    const reads = input.graph.reads.get(platform.id) ?? [];
    const keyReads = reads.map((read) => ({
      stage: read.read.stage,
      instruction: read.read.instruction,
      ref: read.ref,
      digest: read.internal !== undefined ? upstreamKey(keyed, read.internal) : resolvedImage(input.resolved, read).digest,
    }));
    const inputs: InputsRecord = {
      dockerfile: sources.dockerfileDigest,
      context: sources.context.digest,
      contextFiles: sources.context.files,
      buildArgs: platform.buildArgs,
      // Canonical, so arm64 and arm64/v8 are one platform; Windows with its release (`windows(10.0.20348)/amd64`).
      platform: formatPlatform(manifestTargetPlatform(platform)),
    };
    const key = buildKey({ ...inputs, reads: keyReads, ...(sources.buildPlatform ? { buildPlatform: sources.buildPlatform } : {}) });
    keyed.set(platform.id, { platform, key, reads, keyReads, inputs, record: findPlatformRecord(input.previous, platform.repo, platform) });
  }
  return keyed;
}

export function resolvedImage(resolved: PlanInput['resolved'], read: ClassifiedRead): ResolvedImage {
  const image = resolved.get(resolutionKey(read.ref, read.platform));
  if (!image) throw new Error(`planner: ${read.ref} was not resolved for ${read.platform}`);
  return image;
}

function upstreamKey(keyed: Map<string, KeyedPlatform>, id: string): string {
  const upstream = keyed.get(id);
  // The graph orders upstreams first; a miss here is a bug in the graph, not in the input.
  if (!upstream) throw new Error(`planner: upstream ${id} is not keyed yet`);
  return upstream.key;
}

/** The distinct external (reference, platform) pairs the shell must resolve, in build order. */
export function externalResolutions(graph: BuildGraph): Array<{ ref: string; platform: string }> {
  const seen = new Set<string>();
  const pairs: Array<{ ref: string; platform: string }> = [];
  for (const platform of graph.order) {
    for (const read of graph.reads.get(platform.id) ?? []) {
      const key = resolutionKey(read.ref, read.platform);
      if (read.internal !== undefined || seen.has(key)) continue;
      seen.add(key);
      pairs.push({ ref: read.ref, platform: read.platform });
    }
  }
  return pairs;
}
