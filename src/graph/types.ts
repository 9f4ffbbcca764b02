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
  /** Normalized reference (`registry/repository:tag` or `@digest`), as compared and resolved. */
  ref: string;
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
