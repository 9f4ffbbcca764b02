import type { ContextHash } from '../context/types.js';
import type { DockerfileAnalysis } from '../dockerfile/types.js';
import type { BuildGraph } from '../graph/types.js';
import type { FromImageRecord, ImageInfo, InputsRecord, PlatformRecord } from '../imageinfo/types.js';
import type { Manifest, ManifestPlatform } from '../manifest/types.js';
import type { IndexEntry } from '../platform.js';
import type { ResolvedImage } from '../reference.js';
import type { SecretValue } from '../secret.js';

/** Everything the planner decides from. Gathered by the shell (file system, registry); the planner does no I/O. */
export interface PlanInput {
  manifest: Manifest;
  graph: BuildGraph;
  /** Per platform id: its Dockerfile analysis, Dockerfile digest and context hash. */
  platforms: Map<string, PlatformSources>;
  /** External references resolved, keyed by `resolutionKey(ref, platform)`. */
  resolved: ReadonlyMap<string, ResolvedImage>;
  /** The previous image-info, or undefined when there is none (everything is new). */
  previous: ImageInfo | undefined;
  /**
   * Recorded image digests (`<registry>/<repo>@sha256:...`) known to exist in the registry. The shell
   * checks exactly those `reuseCandidates()` returns; a candidate absent from this set is missing.
   */
  existing: ReadonlySet<string>;
  /**
   * What the platform tags the shell checked name now (`reuseCandidates()`' and `pushCandidates()`'
   * `tag`s, qualified): `sha256:…`, or '' when the tag does not exist. A reused record's checked tag
   * that names another image than the record is a moved tag; a tag absent from the map was not checked.
   */
  tags?: ReadonlyMap<string, string>;
  /** `--no-cache`: build everything. */
  noCache: boolean;
  /**
   * What the registry holds under each recorded index digest (`<registry>/<repo>@sha256:...`, as
   * image-info's `manifest.digest`): its entries, or null when the registry has no such index. A
   * recorded index absent from the map is not checked against its platforms.
   */
  indexes?: ReadonlyMap<string, readonly IndexEntry[] | null>;
  /** `--build-arg` values; each enters the key of the platforms whose Dockerfile consumes it. */
  commandLineBuildArgs?: ReadonlyMap<string, SecretValue>;
  /**
   * Images an earlier attempt of this CI leg pushed and no image-info kept (the leg run again in a
   * fresh checkout): per platform id, the record the labels of the image at the platform's first tag
   * carry, when that image is not the recorded one and its labels name this leg's plan. The shell
   * looks only under `build --leg --plan`, at the leg's platforms whose record does not give reuse.
   */
  pushed?: ReadonlyMap<string, PushedImage>;
}

/** An image found at a platform's tag, with the record its labels carry (see PlanInput.pushed). */
export interface PushedImage {
  /** `<registry>/<repo>:<tag>`. */
  tag: string;
  /** Read back from the image's labels, its digest where the tag is. */
  record: PlatformRecord;
}

export interface PlatformSources {
  analysis: DockerfileAnalysis;
  /** `sha256:<hex>` of the Dockerfile's bytes. */
  dockerfileDigest: string;
  context: ContextHash;
  /** The engine's platform (`linux/amd64`), when the analysis depends on it (DockerfileAnalysis.buildPlatformDependent). */
  buildPlatform?: string;
}

export type Decision = 'build' | 'reuse';

export type Reason =
  | { kind: 'new'; detail: string }
  | { kind: 'no-build-key'; detail: string }
  | { kind: 'dockerfile-changed'; detail: string; old: string; new: string }
  | { kind: 'context-changed'; detail: string; old: string; new: string; added: string[]; removed: string[]; modified: string[] }
  | { kind: 'build-args-changed'; detail: string; args: string[]; changes: BuildArgChange[] }
  | { kind: 'platform-changed'; detail: string; old: string; new: string }
  | {
      kind: 'from-image-changed';
      detail: string;
      stage: string;
      instruction: FromImageRecord['instruction'];
      ref: string;
      oldDigest: string;
      newDigest: string;
    }
  | { kind: 'upstream-rebuilt'; detail: string; upstream: string; path: string[]; old: string; new: string }
  | { kind: 'image-missing'; detail: string; digest: string }
  | { kind: 'no-cache'; detail: string }
  /** The engine platform a BUILDPLATFORM-dependent Dockerfile is keyed with changed; '' is none. */
  | { kind: 'build-platform-changed'; detail: string; old: string; new: string }
  /** The record's key has another key format (BUILD_KEY_VERSION): every platform rebuilds once. */
  | { kind: 'key-format-changed'; detail: string; old: number; new: number }
  /** The key changed but the record holds too little to say which input did (e.g. a record read from labels). */
  | { kind: 'build-key-changed'; detail: string; old: string; new: string };

export type ReasonKind = Reason['kind'];

/**
 * A build arg that changed. Values enter as digests: build args may carry secrets (values passed with
 * --var), and values never belong in output. null: the arg was (or is now) not set.
 */
export interface BuildArgChange {
  name: string;
  old: string | null;
  new: string | null;
}

/** Why a shared-tag index must be (re)published. */
export type IndexReason =
  | { kind: 'new-index'; detail: string }
  | { kind: 'never-published'; detail: string }
  | { kind: 'index-missing'; detail: string; digest: string }
  /** The recorded index is there, but its first shared tag names another image ('' none): the tags are put back. */
  | { kind: 'index-tag-moved'; detail: string; tag: string; recorded: string; found: string }
  | { kind: 'tags-changed'; detail: string; added: string[]; removed: string[] }
  | { kind: 'platform-rebuilt'; detail: string; platform: string }
  | { kind: 'platform-digest-changed'; detail: string; platform: string; old: string; new: string }
  | { kind: 'platform-removed'; detail: string; platform: string; old: string };

/** The multi-arch index behind an image's shared tags. */
export interface IndexPlan {
  repo: string;
  /** Position of the image in its repo (manifest order). */
  imageIndex: number;
  sharedTags: string[];
  /** Ids of the image's platforms, in manifest order. */
  platforms: string[];
  /** `create`: no index was published yet; `move`: the tags must point at a new index; `unchanged`: nothing to do. */
  action: 'create' | 'move' | 'unchanged';
  /** Empty for `unchanged`. */
  reasons: IndexReason[];
  /** The recorded index (`<registry>/<repo>@sha256:...`), when one was published. */
  previous?: string;
}

export interface PlatformPlan {
  /** Graph node id (see ManifestPlatform.id). */
  id: string;
  platform: ManifestPlatform;
  /** As in `graph`: relative to the manifest folder, `/Dockerfile` appended for folders. */
  dockerfile: string;
  /** The platform's own tags. */
  tags: string[];
  decision: Decision;
  /** Empty for `reuse`. */
  reasons: Reason[];
  /** `sha256:<hex>`. */
  buildKey: string;
  fromImages: FromImageRecord[];
  inputs: InputsRecord;
  /** The matching record of the previous image-info, when there was one. */
  previous?: PlatformRecord;
  /** For `reuse`: tags the platform has now that the record lacks (to be added without a rebuild). */
  newTags: string[];
  /** For `reuse`: tags of the record that name another image now, or none (to be put back without a rebuild). */
  movedTags: MovedTag[];
  /**
   * For `reuse`: the image is not the recorded one but one an earlier attempt of this CI leg pushed
   * (its labels carry this build key, and it was built from the images this plan reads). `previous`
   * is then its record, read back from the labels; the run records it as built (no `isUnchanged`).
   */
  pushedEarlier?: PushedEarlier;
}

export interface PushedEarlier {
  /** `<registry>/<repo>:<tag>` where it was found. */
  tag: string;
  /** `sha256:…`. */
  digest: string;
  /** Why it is reused, for people. */
  detail: string;
  /** Why the image-info's record would have been rebuilt. */
  instead: Reason[];
}

/** A platform tag that no longer names the recorded image: moved by hand or by another tool, or deleted. */
export interface MovedTag {
  tag: string;
  /** The recorded image, `sha256:…`. */
  recorded: string;
  /** What the tag names now, `sha256:…`; '' when the tag does not exist. */
  found: string;
  detail: string;
}

/** A recorded image the shell checks before the planner decides (see `reuseCandidates`). */
export interface RecordedImageCheck {
  /** The recorded image where this run reaches it, `<registry>/<repo>@sha256:…`. */
  digest: string;
  /**
   * The platform tag that should name it (`<registry>/<repo>:<tag>`, the first of the record's tags
   * the platform still has): one HEAD of it says both that the image exists and that the tag was not
   * moved. Absent for a platform without tags of its own; then the digest is checked.
   */
  tag?: string;
}

export interface Plan {
  /** In build order (upstreams first; ties in manifest order). */
  platforms: PlatformPlan[];
  /** One per image with shared tags, in manifest order. */
  indexes: IndexPlan[];
}
