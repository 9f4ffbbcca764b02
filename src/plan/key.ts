/**
 * Build keys: a content address over everything a build reads. Internal upstreams enter by their own
 * build keys, so the keys of a whole chain are known before anything in it builds.
 */
import { sha256Digest } from '../digest.js';
import type { ReadInstruction } from '../dockerfile/types.js';

/** Bump when what enters the key or how it is serialized changes: every key changes with it. */
export const BUILD_KEY_VERSION = 1;

export interface KeyRead {
  stage: string;
  instruction: ReadInstruction;
  /** Normalized reference. */
  ref: string;
  /** External: the per-platform digest read. Internal: the upstream platform's build key. */
  digest: string;
}

export interface BuildKeyMaterial {
  /** `sha256:` of the Dockerfile's bytes. */
  dockerfile: string;
  /** Digest of the build context. */
  context: string;
  buildArgs: Record<string, string>;
  /** Target platform, canonical `linux/amd64` form (`windows(10.0.20348)/amd64` for a Windows release). */
  platform: string;
  /** The engine's platform, only for Dockerfiles whose build depends on it (DockerfileAnalysis.buildPlatformDependent). */
  buildPlatform?: string;
  /** In Dockerfile order. */
  reads: KeyRead[];
}

export function buildKey(material: BuildKeyMaterial): string {
  const canonical = canonicalJson({
    version: BUILD_KEY_VERSION,
    dockerfile: material.dockerfile,
    context: material.context,
    buildArgs: material.buildArgs,
    platform: material.platform,
    // Absent for most Dockerfiles, so their keys do not change with the machine that plans them.
    ...(material.buildPlatform ? { buildPlatform: material.buildPlatform } : {}),
    reads: material.reads.map((r) => ({ stage: r.stage, instruction: r.instruction, ref: r.ref, digest: r.digest })),
  });
  return sha256Digest(canonical);
}

/** JSON with object keys sorted at every level, so equal content serializes to equal bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
  }
  return value;
}

/** The key under which the shell stores the ResolvedImage of an external `ref` read for `platform`. */
export function resolutionKey(ref: string, platform: string): string {
  return `${ref} ${platform}`;
}
