/**
 * The manifest as imagewright uses it, after includes are merged and variables substituted.
 * Read from the ImageBuilder `manifest.json` format (dotnet/docker-tools).
 */

export interface Manifest {
  /** Absolute path of the top-level manifest file. */
  file: string;
  /** Absolute path of the folder holding the manifest; all manifest paths are relative to it. */
  dir: string;
  /** The registry every repo is pushed to, e.g. `mcr.microsoft.com` or `127.0.0.1:5000`; '' when none. */
  registry: string;
  /** Variables after includes and `--var` overrides (values already substituted). */
  variables: Record<string, string>;
  repos: ManifestRepo[];
}

export interface ManifestRepo {
  id?: string;
  /** Repository name without the registry, e.g. `dotnet/runtime`. */
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
  /** Repository name (without registry). */
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

/** Fully qualified reference of one of the manifest's tags: `<registry>/<repo>:<tag>` (no registry prefix when registry is ''). */
export function qualifiedTag(manifest: Pick<Manifest, 'registry'>, repo: string, tag: string): string {
  return `${manifest.registry ? `${manifest.registry}/` : ''}${repo}:${tag}`;
}
