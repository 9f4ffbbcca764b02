import type { ImageRead } from '../dockerfile/types.js';
import type { ManifestPlatform } from '../manifest/types.js';

/** How a downstream platform reads an upstream one. ADD --from counts as COPY; ONBUILD and SYNTAX as what they do. */
export type EdgeVia = 'FROM' | 'COPY' | 'MOUNT';

export interface GraphEdge {
  /** Upstream platform id. */
  from: string;
  /** Downstream platform id. */
  to: string;
  via: EdgeVia;
  /** The downstream stage that reads it: its name, or its index as a string. */
  stage: string;
}

/** One image read of one platform, classified. */
export interface ClassifiedRead {
  read: ImageRead;
  /**
   * Normalized reference (`registry/repository:tag` or `@digest`), as it enters keys and records.
   * An internal image is named by its public name (the manifest's registry, no repo prefix), however
   * the Dockerfile wrote it, so keys do not depend on where a run stages its images.
   */
  ref: string;
  /**
   * Normalized reference the build reads the image from, when that is not `ref`: an internal image at
   * this run's location (`--registry-override`, `--repo-prefix`), or an external one after
   * `--base-override-regex`/`--base-override-sub`. External images are resolved there.
   */
  source?: string;
  /** `os/arch[/variant]` to resolve the reference for. */
  platform: string;
  /** The platform id this reference names, when it is one of the manifest's own tags. */
  internal?: string;
}

export interface BuildGraph {
  /** Platforms in build order: every upstream before its dependents; ties keep manifest order. */
  order: ManifestPlatform[];
  edges: GraphEdge[];
  /** Each platform's reads, classified, keyed by platform id. */
  reads: Map<string, ClassifiedRead[]>;
}
