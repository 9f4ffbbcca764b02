/**
 * The manifest JSON as written, in the shape the schema guarantees once a file has passed
 * checkStructure. Only the fields imagewright reads are listed.
 */

export type Scalar = string | number | boolean;

export interface RawManifestJson {
  registry?: string;
  includes?: string[];
  variables?: Record<string, Scalar>;
  repos?: RawRepoJson[];
}

export interface RawRepoJson {
  id?: string;
  name: string;
  images: RawImageJson[];
}

export interface RawImageJson {
  productVersion?: string;
  /** Tag name → tag metadata (ignored). */
  sharedTags?: Record<string, object>;
  platforms: RawPlatformJson[];
}

export interface RawPlatformJson {
  dockerfile: string;
  os: string;
  osVersion?: string;
  architecture?: string;
  variant?: string;
  buildArgs?: Record<string, Scalar>;
  tags?: Record<string, object>;
}
