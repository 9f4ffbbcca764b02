/**
 * Registry-side publishing that needs no engine: new tags for an image that is reused as it is, and
 * the multi-arch index behind an image's shared tags.
 */
import { digestOfReference, sha256Digest } from '../digest.js';
import { RegistryError } from '../errors.js';
import { sameTagSet } from '../imageinfo/match.js';
import type { ManifestRecord } from '../imageinfo/types.js';
import type { ManifestPlatform } from '../manifest/types.js';
import { MediaType, isIndexMediaType } from '../registry/media-types.js';
import { pinnedReference, repositoryOfReference } from '../reference.js';

/** The registry operations publishing needs (the registry module's client provides them). */
export interface ManifestClient {
  /** HEAD a manifest: what the reference names now, or undefined when it does not exist. */
  headManifest(ref: string): Promise<{ digest: string } | undefined>;
  /** GET a manifest by tag or digest. */
  getManifest(ref: string): Promise<{ body: Buffer; mediaType: string; digest: string }>;
  /** PUT a manifest under the reference's tag; resolves to the digest the registry reports. */
  putManifest(ref: string, body: Buffer, mediaType: string): Promise<string>;
  /** Cross-repository blob mount; false when the registry did not mount. */
  mountBlob(fromRepoRef: string, toRepoRef: string, digest: string): Promise<boolean>;
}

export interface PublishedManifest {
  /** `sha256:…` as the registry reported it. */
  digest: string;
  mediaType: string;
  /** Bytes of the manifest. */
  size: number;
}

/**
 * Point each of `targets` (`registry/repo:tag`) at the image `source` (`registry/repo@sha256:…` or a
 * tag) without pulling or rebuilding it. Blobs are mounted first when a target lives in another
 * repository. Resolves to the manifest as published.
 */
/**
 * Put the manifest `source` (`repo@sha256:…`) under more tags without pulling or rebuilding: HEAD each
 * target first, and copy the manifest only where the tag does not name it already. Returns the
 * targets that were written.
 */
export async function retag(client: ManifestClient, source: string, targets: readonly string[]): Promise<string[]> {
  const sourceDigest = digestOfReference(source);
  const heads = await Promise.all(targets.map((target) => client.headManifest(target)));
  const pending = targets.filter((_, i) => heads[i]?.digest !== sourceDigest);
  if (pending.length === 0) return [];
  await putUnderTags(client, source, await client.getManifest(source), pending);
  return pending;
}

/**
 * Copy `manifest`, the manifest of `source`, to each target tag (mounting its blobs when the
 * repository differs). For an image just pushed, whose other tags cannot name it yet, with no HEAD first.
 */
export async function putUnderTags(
  client: ManifestClient,
  source: string,
  manifest: { body: Buffer; mediaType: string; digest: string },
  targets: readonly string[],
): Promise<void> {
  const from = repositoryOfReference(source);
  for (const target of targets) {
    const to = repositoryOfReference(target);
    if (to !== from) await mountReferencedBlobs(client, manifest, from, to);
    const digest = await client.putManifest(target, manifest.body, manifest.mediaType);
    if (digest !== manifest.digest) {
      throw new RegistryError(`retag ${target}: the registry stored ${digest}, not ${manifest.digest}`);
    }
  }
}

async function mountReferencedBlobs(
  client: ManifestClient,
  manifest: { body: Buffer; mediaType: string },
  from: string,
  to: string,
): Promise<void> {
  if (isIndexMediaType(manifest.mediaType)) {
    throw new Error(`cannot copy the index ${from} to ${to}: only image manifests are retagged across repositories`);
  }
  const parsed = JSON.parse(manifest.body.toString('utf8')) as ImageManifestJson;
  const digests = [parsed.config?.digest, ...(parsed.layers ?? []).map((l) => l.digest)].filter((d): d is string => !!d);
  for (const digest of digests) {
    if (!(await client.mountBlob(from, to, digest))) {
      throw new Error(`cannot mount ${digest} from ${from} into ${to}`);
    }
  }
}

export interface IndexPlatform {
  /** The platform's image: `registry/repo@sha256:…`. */
  image: string;
  os: string;
  architecture: string;
  variant?: string;
  /** Windows images name their OS build. */
  osVersion?: string;
}

export interface IndexDocument {
  body: Buffer;
  mediaType: string;
  /** `sha256:…` of `body`. */
  digest: string;
}

interface Described extends PublishedManifest {
  platform: IndexPlatform;
}

/**
 * The multi-arch index listing `platforms`, as a Docker manifest list when every platform manifest
 * is Docker v2 (older clients and registries read it), else as an OCI image index.
 */
export function composeIndex(manifests: ReadonlyArray<PublishedManifest & { platform: IndexPlatform }>): IndexDocument {
  const docker = manifests.length > 0 && manifests.every((m) => m.mediaType === MediaType.dockerManifest);
  const mediaType = docker ? MediaType.dockerManifestList : MediaType.ociIndex;
  const document = {
    schemaVersion: 2,
    mediaType,
    manifests: manifests.map((m) => ({
      mediaType: m.mediaType,
      digest: m.digest,
      size: m.size,
      platform: {
        architecture: m.platform.architecture,
        os: m.platform.os,
        ...(m.platform.osVersion ? { 'os.version': m.platform.osVersion } : {}),
        ...(m.platform.variant ? { variant: m.platform.variant } : {}),
      },
    })),
  };
  const body = Buffer.from(JSON.stringify(document, null, 2));
  return { body, mediaType, digest: sha256Digest(body) };
}

/** The index of `platforms` as it would be published (reads each platform's manifest for its size and media type). */
export async function describeIndex(client: ManifestClient, platforms: readonly IndexPlatform[]): Promise<IndexDocument> {
  if (platforms.length === 0) throw new Error('an index needs at least one platform');
  const described: Described[] = [];
  for (const platform of platforms) {
    const manifest = await client.getManifest(platform.image);
    if (isIndexMediaType(manifest.mediaType)) throw new Error(`${platform.image} is an index, not a platform image`);
    described.push({ digest: manifest.digest, mediaType: manifest.mediaType, size: manifest.body.length, platform });
  }
  return composeIndex(described);
}

/** Put `index` under each of `tags` (`registry/repo:tag`, in the platforms' repository). */
export async function putIndex(client: ManifestClient, index: IndexDocument, tags: readonly string[]): Promise<PublishedManifest> {
  for (const tag of tags) {
    const digest = await client.putManifest(tag, index.body, index.mediaType);
    if (digest !== index.digest) throw new RegistryError(`publish ${tag}: the registry stored ${digest}, not ${index.digest}`);
  }
  return { digest: index.digest, mediaType: index.mediaType, size: index.body.length };
}

/** A manifest platform's entry in its image's index, pointing at `image` (`registry/repo@sha256:…`). */
export function indexPlatform(platform: Pick<ManifestPlatform, 'os' | 'architecture' | 'variant'>, image: string): IndexPlatform {
  return { image, os: platform.os, architecture: platform.architecture, ...(platform.variant ? { variant: platform.variant } : {}) };
}

/** One image's shared-tag index, as `build --push` and `publish-manifest` publish it. */
export interface SharedTagIndex {
  /**
   * The image's platforms in manifest order (see indexPlatform). The order is part of the index's
   * digest: both callers list them the same way, so they publish the same index.
   */
  platforms: readonly IndexPlatform[];
  /** The image's shared tags as the manifest names them, and the same qualified (`registry/repo:tag`). */
  sharedTags: readonly string[];
  tags: readonly string[];
  /** The index image-info records for this image: when it is the same (digest and shared tags), nothing is written. */
  previous: ManifestRecord | undefined;
  /** Put the index under its shared tags even when it is the recorded one: a shared tag was moved off it. */
  putBack?: boolean;
  now: () => Date;
}

export type IndexPublication =
  /** `digest`: `registry/repo@sha256:…` of the index. */
  | { digest: string; unchanged: true }
  /** Published: `record` is the index as image-info records it. */
  | { digest: string; unchanged: false; record: ManifestRecord };

/** Publish `index` under its shared tags, unless image-info records exactly this index already. */
export async function publishSharedTagIndex(client: ManifestClient, index: SharedTagIndex): Promise<IndexPublication> {
  const [first] = index.tags;
  if (!first) throw new Error('an index needs at least one shared tag');
  const document = await describeIndex(client, index.platforms);
  const digest = pinnedReference(repositoryOfReference(first), document.digest);
  const recorded = index.previous?.digest === digest && sameTagSet(index.previous.sharedTags, index.sharedTags);
  if (recorded && !index.putBack) return { digest, unchanged: true };
  await putIndex(client, document, index.tags);
  // The recorded index, put back under its tags: its record stands as it was.
  if (recorded && index.previous) return { digest, unchanged: false, record: index.previous };
  return { digest, unchanged: false, record: { digest, sharedTags: [...index.sharedTags], created: index.now().toISOString() } };
}

/** Layers of an image manifest, as image-info records them. */
export function manifestLayers(body: Buffer): Array<{ digest: string; size: number }> {
  const parsed = JSON.parse(body.toString('utf8')) as ImageManifestJson;
  return (parsed.layers ?? []).map((layer) => ({ digest: layer.digest, size: layer.size }));
}

interface ImageManifestJson {
  config?: { digest: string };
  layers?: Array<{ digest: string; size: number }>;
}

