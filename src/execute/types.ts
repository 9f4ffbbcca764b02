/** What a build run did, platform by platform. */
import type { FromImageRecord, LayerRecord } from '../imageinfo/types.js';
import type { SkipReason } from './scheduler.js';

/** `built`: the engine built it; `reused`: the recorded image stays as it is; `retagged`: reused, with new tags put on it. */
export type PlatformAction = 'built' | 'reused' | 'retagged';

export interface PlatformOutcome {
  id: string;
  action: PlatformAction;
  /** `<registry>/<repo>@sha256:…` as the registry reported it; '' when the image was built but not pushed. */
  digest: string;
  /** The local image id of a build (useful without --push, where `digest` is ''). Not an image-info field. */
  imageId?: string;
  /** The platform's own tags the record lists: those that exist on the image now. */
  tags: string[];
  /** From the pushed manifest. */
  layers?: LayerRecord[];
  /** The plan's reads, with the digest of each internal upstream filled in when the build used one. */
  fromImages: FromImageRecord[];
  /** Final stage's base image, `<registry>/<repo>@sha256:…`, when known. */
  baseImageDigest?: string;
  /** ISO time the build finished. */
  created?: string;
  durationMs: number;
  /** The build log, for builds. */
  logFile?: string;
  /** Things the user should know, e.g. tags left unpublished without --push. */
  notes: string[];
}

export interface PlatformFailure {
  id: string;
  /** One line. */
  message: string;
  /** The original error (an InputError, RegistryAuthError, EngineError...), for the exit code. */
  error: unknown;
  logFile?: string;
  /** Last lines of the log. */
  logTail?: string;
}

export interface PlatformSkip {
  id: string;
  reason: SkipReason;
}

/** The multi-arch index behind one image's shared tags. */
export interface IndexOutcome {
  repo: string;
  imageIndex: number;
  sharedTags: string[];
  /** `<registry>/<repo>@sha256:…`; '' when not published. */
  digest: string;
  /** The registry already had this index under these tags, as the previous record says: nothing was written. */
  unchanged?: boolean;
  /** Why it was not published, when it was not. */
  problem?: string;
  /** The error behind `problem`, when there was one (for the exit code). */
  error?: unknown;
  /** The platform of the image that did not finish or is not part of the run, when that is why. */
  waitsFor?: string;
}

export interface BuildRunResult {
  /** Per platform id, in the order platforms finished. */
  outcomes: Map<string, PlatformOutcome>;
  failures: PlatformFailure[];
  skipped: PlatformSkip[];
  indexes: IndexOutcome[];
  /** No platform failed or was skipped, and every index that should be published was. */
  ok: boolean;
  durationMs: number;
}
