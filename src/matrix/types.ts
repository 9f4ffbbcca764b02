/** A build matrix: the platforms of a manifest split into legs, each built by one CI job. */

export interface Leg {
  /** Stable name, e.g. `linux-amd64-src-builder-graph`; the same inputs always give the same names. */
  name: string;
  /** 0-based: a leg reads images only from legs of earlier waves (or from the registry as they are). */
  wave: number;
  /** `linux` / `windows`; several joined by `,` when a leg had to span groups. */
  osType: string;
  /** Go architecture name (`amd64`, `arm`, `arm64`); several joined by `,` when a leg had to span groups. */
  architecture: string;
  variant?: string;
  /** The Windows release the leg's host must run (`ltsc2022`, `1809`); '' for Linux, whose hosts build any distro. */
  osVersion: string;
  /** The manifest osVersions of the leg's platforms (`noble`, `azurelinux3.0`, `nanoserver-ltsc2022`), distinct. */
  osVersions: string[];
  /**
   * The machine pool the leg runs on, named as ImageBuilder names its matrices: OS (or Windows release)
   * and architecture, camelCased: `linuxAmd64`, `linuxArm64`, `linuxArm32`, `windowsLtsc2022Amd64`.
   */
  pool: string;
  /** Platform ids of the leg, in build order. */
  platformIds: string[];
  /** Distinct Dockerfile paths of those platforms, relative to the manifest folder (for `--path`). */
  paths: string[];
  /** Names of the legs of earlier waves this leg reads images from. */
  dependsOn: string[];
}

export interface Matrix {
  legs: Leg[];
  /** Number of waves (0 when there is no leg). */
  waves: number;
  /**
   * Whether the publish step has work: legs to merge, or shared-tag indexes to create or move even
   * when nothing builds (--only-changed; without it every platform is work, so true when there are legs).
   */
  publish?: boolean;
  /** The plan's identity and leg list (set by the `matrix` command). */
  plan?: MatrixPlan;
}

/** What leg computation needs to know about one platform (a ManifestPlatform fits). */
export interface LegPlatform {
  id: string;
  dockerfile: string;
  os: string;
  osVersion: string;
  architecture: string;
  variant?: string;
}

export interface LegInput {
  /** In build order (upstreams first), as the graph orders them. */
  platforms: LegPlatform[];
  /** Internal reads: `to` reads an image `from` builds. */
  edges: ReadonlyArray<{ from: string; to: string }>;
}

export interface LegOptions {
  /** At most this many legs in each wave; legs of one wave beyond it are packed together. */
  maxLegs?: number;
  /**
   * Platforms with something to do (build, or new tags to add). When given, the other platforms are
   * left out, legs left empty are dropped, and waves are counted over what remains. Leg names and
   * membership do not change: they never depend on the plan.
   */
  work?: ReadonlySet<string>;
}

/**
 * Which legs a matrix planned. `matrix` prints it; each leg's file carries it (build --leg --plan);
 * merge-image-info and publish-manifest check against it, so that a leg file that is missing, or that
 * comes from another plan, is found instead of mixing old and new images.
 */
export interface MatrixPlan {
  /**
   * A digest of what the plan covers: its legs with their platforms, the build keys of the platforms
   * with work (--only-changed), and the manifest and image-info files it was computed from.
   */
  id: string;
  legs: Array<{ name: string; wave: number }>;
}

/** What a leg file says of where it comes from: the top-level `imagewrightLeg` field of its image-info. */
export interface LegStamp {
  plan: MatrixPlan;
  leg: string;
}
