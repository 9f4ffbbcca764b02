/**
 * The build key: a content address over everything a build reads (as BuildKit's CacheMap and Bazel's
 * action key). Internal upstreams enter by their own build keys, so the keys of a whole chain are
 * known before anything in it builds. Pure; no I/O.
 *
 * `BuildKeyMaterial` is the one shape of a key's inputs. image-info records and image labels store it
 * (`InputsRecord` and `FromImageRecord` are derived from it), and plan/explain.ts has one explanation
 * per field, which the compiler asks for. A new input is a new field here, with a new
 * BUILD_KEY_VERSION: see docs/decisions.md (Key format versions).
 */
import type { ReadInstruction } from './dockerfile/types.js';
import { composedDigest } from './digest.js';
import type { SecretValue } from './secret.js';

/**
 * Bump when what enters the key or how it is serialized changes: every key changes with it, and every
 * platform rebuilds once with the reason "key format changed (vN → vN+1)".
 *   1: the first format.
 *   2: keys and context digests carry their format tag; a read names what it contributed (image digest
 *      or upstream build key).
 *   3: the context digest (context format 2) covers the files the Dockerfile's sources reach, not
 *      the whole context folder.
 */
export const BUILD_KEY_VERSION = 3;

/** What a read contributes to the key: an external image by its digest, an internal upstream by its build key. */
export type ReadSource =
  | {
      kind: 'image';
      /** The per-platform image digest the reference resolved to (`sha256:…`). */
      digest: string;
    }
  | {
      kind: 'upstream';
      /** The upstream platform's build key; its image digest stays out, since it is not known before it builds. */
      buildKey: string;
    };

/** One image a build reads (FROM, COPY --from, RUN --mount from, the syntax frontend). */
export interface KeyRead {
  /** Stage name, or index as a string; '' for the syntax frontend. */
  stage: string;
  instruction: ReadInstruction;
  /** Normalized reference, e.g. `127.0.0.1:5000/base/busybox:1`. */
  ref: string;
  source: ReadSource;
}

/** Everything a platform's build key is computed from. */
export interface BuildKeyMaterial {
  /** `sha256:` of the Dockerfile's bytes. */
  dockerfile: string;
  /** Digest of what the build reads of its context, after .dockerignore (see ContextHash.digest). */
  context: string;
  /** Values included: a changed value changes the image. They never leave the key and the records, see docs. */
  buildArgs: Record<string, string>;
  /** Target platform, canonical `linux/amd64` form (`windows(10.0.20348)/amd64` for a Windows release). */
  platform: string;
  /** The engine's platform, only for Dockerfiles whose build depends on it (DockerfileAnalysis.buildPlatformDependent). */
  buildPlatform?: string;
  /**
   * `--build-arg` values this build consumes (see plan/keys.ts consumedBuildArgs), sorted by name.
   * Their values enter the hash and nothing else: records keep the names only. Absent when none.
   */
  commandLineBuildArgs?: ReadonlyMap<string, SecretValue>;
  /** In Dockerfile order. */
  reads: KeyRead[];
}

/**
 * The material as image-info records it, beside the key: every field but `reads` (which `fromImages`
 * records), the key format it was keyed with, and the context's files so a context change can name them.
 */
export type RecordedInputs = Omit<BuildKeyMaterial, 'reads' | 'commandLineBuildArgs'> & {
  /** The names of the material's `commandLineBuildArgs`; their values are never recorded. */
  commandLineBuildArgs?: string[];
  /** BUILD_KEY_VERSION the key was computed with; records written before version 2 lack it (version 1). */
  keyVersion?: number;
  /**
   * Per-file digests of the context (see ContextHash.files). Not keyed as such: `context` covers them.
   * image-info keeps them; image labels do not (a context of 100,000 files would not fit on the
   * `docker build` command line), so a record read from labels lacks them.
   */
  contextFiles?: Record<string, string>;
};

/** The format version of a record's build key. */
export function recordedKeyVersion(inputs: Pick<RecordedInputs, 'keyVersion'> | undefined): number {
  return inputs?.keyVersion ?? 1;
}

export function buildKey(material: BuildKeyMaterial): string {
  return composedDigest('build-key', BUILD_KEY_VERSION, keyedFields(material));
}

/**
 * Exactly the fields that enter the key, one line each. The mapped return type makes a field added to
 * BuildKeyMaterial a compile error here until it is keyed; copying field by field keeps anything else
 * that rides along on the object (such as contextFiles) out.
 */
function keyedFields(material: BuildKeyMaterial): { [F in keyof BuildKeyMaterial]-?: unknown } {
  return {
    dockerfile: material.dockerfile,
    context: material.context,
    buildArgs: material.buildArgs,
    platform: material.platform,
    // Absent for most Dockerfiles (and then absent from the JSON), so their keys do not change with the machine that plans them.
    buildPlatform: material.buildPlatform || undefined,
    // The one place a command-line build arg's value is revealed for a key: into the hash, never into a record.
    commandLineBuildArgs: material.commandLineBuildArgs?.size
      ? Object.fromEntries([...material.commandLineBuildArgs].map(([name, value]) => [name, value.reveal()]))
      : undefined,
    reads: material.reads.map((read) => ({ stage: read.stage, instruction: read.instruction, ref: read.ref, source: keyedSource(read.source) })),
  };
}

function keyedSource(source: ReadSource): ReadSource {
  return source.kind === 'image' ? { kind: 'image', digest: source.digest } : { kind: 'upstream', buildKey: source.buildKey };
}
