/**
 * The manifest as imagewright uses it, after includes are merged and variables substituted.
 * Read from the ImageBuilder `manifest.json` format (dotnet/docker-tools).
 */

export interface Manifest {
  /** Absolute path of the top-level manifest file. */
  file: string;
  /** Absolute path of the folder holding the manifest; all manifest paths are relative to it. */
  dir: string;
  /**
   * The manifest's own `registry`, e.g. `mcr.microsoft.com`; '' when none. Dockerfiles name internal
   * images by it (`mcr.microsoft.com/<repo>:<tag>`), and image-info records digests under it.
   */
  registry: string;
  /**
   * Where this run pushes the images and reads internal ones: ImageBuilder's `--registry-override`
   * (default: `registry`) and `--repo-prefix` (default ''). A platform's identity, its graph and its
   * keys do not depend on these; only the location of its image does (see `qualifiedTag`).
   */
  location: ImageLocation;
  /** ImageBuilder's `--base-override-regex`/`--base-override-sub`: where external images are read from instead. */
  baseOverride?: BaseOverride;
  /** Variables after includes and `--var` overrides (values already substituted). */
  variables: Record<string, string>;
  repos: ManifestRepo[];
}

export interface ImageLocation {
  /** Registry host[:port]; '' when the manifest has none and none is given. */
  registry: string;
  /** Prepended to every repo name, e.g. `stage-42/`; '' for none. */
  repoPrefix: string;
}

export interface BaseOverride {
  /** Applied to the external reference as the Dockerfile writes it (after ARG substitution), every match replaced. */
  pattern: RegExp;
  /** Replacement in JavaScript's form (`$1`, `$<name>`, `$&`), translated from .NET's on load. */
  replacement: string;
}

export interface ManifestRepo {
  id?: string;
  /** Repository name as the manifest writes it, without registry or `--repo-prefix`, e.g. `dotnet/runtime`. */
  name: string;
  images: ManifestImage[];
  /** JSON path of this repo in its source file, for messages, e.g. `repos[2]`. */
  location: SourceLocation;
}

export interface ManifestImage {
  productVersion?: string;
  /** Tags shared by all platforms of this image (a multi-arch index), in manifest order. */
  sharedTags: string[];
  platforms: ManifestPlatform[];
  location: SourceLocation;
}

export interface ManifestPlatform {
  /**
   * Stable identity of the platform within the manifest, used as the graph node id:
   * `<repo>:<first tag>`, or `<repo>:<first shared tag>@<os>/<architecture>[/<variant>]` when the
   * platform has no tags of its own.
   */
  id: string;
  /** Repository name as the manifest writes it (without registry or `--repo-prefix`). */
  repo: string;
  /** Index of the image within its repo, and of the platform within its image. */
  imageIndex: number;
  platformIndex: number;
  /** The Dockerfile, relative to the manifest folder, POSIX separators; `/Dockerfile` appended when the manifest named a folder. */
  dockerfile: string;
  /** Absolute path of the Dockerfile. */
  dockerfilePath: string;
  /** Absolute path of the build context (the Dockerfile's folder). */
  contextDir: string;
  /** `linux` or `windows`. */
  os: string;
  /** e.g. `bookworm-slim`, `azurelinux3.0`, `nanoserver-ltsc2022`. May be ''. */
  osVersion: string;
  /** Default `amd64`. */
  architecture: string;
  /** e.g. `v7`, `v8`; undefined when none. */
  variant?: string;
  /** Build args after variable substitution. */
  buildArgs: Record<string, string>;
  /** The platform's own tags (tag part only), manifest order, after substitution. */
  tags: string[];
  /** The image's shared tags, for convenience (same array as the image's). */
  sharedTags: string[];
  /** The image's productVersion, for convenience: part of the platform's record identity (docs/image-info.md). */
  productVersion?: string;
  location: SourceLocation;
}

export interface SourceLocation {
  /** Absolute path of the manifest file (the main one or an include) the item came from. */
  file: string;
  /** JSON path, e.g. `repos[0].images[1].platforms[2]`. */
  path: string;
  /** 1-based line of the item in that file, when known. */
  line?: number;
}

/** Where this run pushes and reads `repo`: `<registry override>/<repo prefix><repo>` (no registry part when there is none). */
export function qualifiedRepo(manifest: Pick<Manifest, 'location'>, repo: string): string {
  const { registry, repoPrefix } = manifest.location;
  return `${registry ? `${registry}/` : ''}${repoPrefix}${repo}`;
}

/** One of the manifest's tags at the location this run pushes to and reads from (see `qualifiedRepo`). */
export function qualifiedTag(manifest: Pick<Manifest, 'location'>, repo: string, tag: string): string {
  return `${qualifiedRepo(manifest, repo)}:${tag}`;
}

/** The name the manifest gives `repo`, which Dockerfiles use and image-info records: `<registry>/<repo>`. */
export function publicRepo(manifest: Pick<Manifest, 'registry'>, repo: string): string {
  return `${manifest.registry ? `${manifest.registry}/` : ''}${repo}`;
}

/** One of the manifest's tags under its public name (see `publicRepo`). */
export function publicTag(manifest: Pick<Manifest, 'registry'>, repo: string, tag: string): string {
  return `${publicRepo(manifest, repo)}:${tag}`;
}
