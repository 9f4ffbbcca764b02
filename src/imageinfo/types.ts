/**
 * The ImageBuilder `image-info.json` format (schemaVersion "2.0"), with imagewright's additions
 * (`variant`, `buildKey`, `fromImages`, `inputs`) on each platform. Files written by ImageBuilder lack them.
 * Fields this module does not know are kept on the objects as read and written back unchanged.
 */
import type { KeyRead, RecordedInputs } from '../build-key.js';

export interface ImageInfo {
  schemaVersion: string;
  repos: RepoRecord[];
  /** A leg file's stamp, written by `build --leg --plan` (matrix/stamp.ts reads it); never in a merged file. */
  imagewrightLeg?: object;
}

export interface RepoRecord {
  repo: string;
  images: ImageRecord[];
}

export interface ImageRecord {
  productVersion?: string;
  platforms: PlatformRecord[];
  /** The multi-arch index for the image's sharedTags (ImageBuilder's ManifestData). */
  manifest?: ManifestRecord;
}

export interface ManifestRecord {
  /** `<registry>/<repo>@sha256:...`; '' while the index is not pushed yet (ImageBuilder then omits the field). */
  digest: string;
  sharedTags: string[];
  created?: string;
  syndicatedDigests?: string[];
}

export interface LayerRecord {
  digest: string;
  size: number;
}

/**
 * One read of the build key's material (KeyRead) as image-info records it: its source flattened into
 * `internal` and `buildKey`, and the image digest known for internal reads too.
 */
export type FromImageRecord = Pick<KeyRead, 'stage' | 'instruction' | 'ref'> & {
  /** Per-platform digest read (`sha256:...`); for an internal image not yet built, ''. */
  digest: string;
  internal: boolean;
  /** For internal images: the upstream platform's build key. */
  buildKey?: string;
};

/** What the build key was computed from (the key material but its reads), kept so that a changed key can be explained. */
export type InputsRecord = RecordedInputs;

export interface PlatformRecord {
  /** Dockerfile path relative to the manifest folder, as ImageBuilder records it (a folder or file). */
  dockerfile: string;
  simpleTags: string[];
  /** `<registry>/<repo>@sha256:...` as the registry reported it; '' when not pushed. */
  digest: string;
  /** Final stage's base image, `<ref>@sha256:...`. */
  baseImageDigest?: string;
  /** `Linux` / `Windows` (ImageBuilder capitalizes). */
  osType: string;
  /**
   * The manifest's osVersion (`bookworm-slim`), as ImageBuilder has written it since late 2020 and
   * imagewright writes it; ImageBuilder versions of 2020 wrote a display name (`Debian 12`) instead.
   */
  osVersion: string;
  /** ImageBuilder's display name: `amd64`, `arm64`, `arm32` for arm; the variant is not part of it. */
  architecture: string;
  /** imagewright addition: the manifest's variant (`v7`), which ImageBuilder does not record. */
  variant?: string;
  created?: string;
  commitUrl?: string;
  /** ImageBuilder wrote plain digests in older files and `{digest,size}` in newer ones; normalized on read. */
  layers?: LayerRecord[];
  isUnchanged?: boolean;
  /** imagewright additions. */
  buildKey?: string;
  fromImages?: FromImageRecord[];
  inputs?: InputsRecord;
}
