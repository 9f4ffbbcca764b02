/**
 * Image-info read back from the registry: every image imagewright builds carries its build key, the
 * images it read and its inputs as labels, so a repository can plan without a state file. One
 * manifest fetch (two when the tag names an index) and one config fetch per platform.
 */
import { ImageNotFoundError } from '../errors.js';
import { ImageInfoDocument, platformRecordIdentity, type ImageKey } from '../imageinfo/index.js';
import { LABEL_PLAN, readRecordLabels, type PlatformIdentity } from '../imageinfo/labels.js';
import type { ImageInfo, PlatformRecord } from '../imageinfo/types.js';
import { qualifiedTag, type Manifest, type ManifestPlatform } from '../manifest/types.js';
import { manifestTargetPlatform, pickPlatformEntry } from '../platform.js';
import { parseReference, pinnedReference, repositoryOf } from '../reference.js';
import { isIndexMediaType, type RegistryClient } from '../registry/index.js';


export type LabelReader = Pick<RegistryClient, 'getManifest' | 'getBlob' | 'headManifest'>;

/** The fields of an OCI image config that imagewright reads. */
export interface ImageConfig {
  os?: string;
  architecture?: string;
  variant?: string;
  'os.version'?: string;
  created?: string;
  config?: { Labels?: Record<string, string> | null };
}

/** The config blob of an image manifest (its body), parsed; undefined when the manifest names none. */
export async function readImageConfig(registry: LabelReader, repo: string, manifestBody: Buffer): Promise<ImageConfig | undefined> {
  const body = JSON.parse(manifestBody.toString('utf8')) as { config?: { digest?: string } };
  const digest = body.config?.digest;
  if (!digest) return undefined;
  return JSON.parse((await registry.getBlob(repo, digest)).toString('utf8')) as ImageConfig;
}

/**
 * The records the images under the manifest's tags carry. Each record keeps the identity the image
 * was built with (its `dev.imagewright.platforms` label), so the planner matches it to the manifest by
 * the same rule as a record read from a file (docs/image-info.md): a changed osVersion or product
 * version, or tags all renamed, make the platform new in both modes.
 */
export async function readImageInfoFromRegistry(manifest: Manifest, registry: LabelReader): Promise<ImageInfo> {
  const platforms = manifest.repos.flatMap((r) => r.images.flatMap((i) => i.platforms));
  const records = await Promise.all(platforms.map((p) => recordFromLabels(manifest, p, registry)));
  // One document takes every record: one image-info per record would cost N² for N platforms.
  const document = new ImageInfoDocument({ schemaVersion: '2.0', repos: [] });
  records.forEach((found, i) => {
    const platform = platforms[i];
    if (!found || !platform) return;
    const image = manifest.repos.find((r) => r.name === platform.repo)?.images[platform.imageIndex];
    if (!image) return;
    const key: ImageKey = { sharedTags: image.sharedTags, platforms: image.platforms };
    if (found.productVersion !== undefined) key.productVersion = found.productVersion;
    document.upsertPlatform(platform.repo, key, found.record);
  });
  return document.toInfo();
}

/** The first of the platform's tags that exists (else its image's first shared tag), as a record. */
async function recordFromLabels(
  manifest: Manifest,
  platform: ManifestPlatform,
  registry: LabelReader,
): Promise<{ record: PlatformRecord; productVersion?: string } | undefined> {
  for (const tag of platform.tags.length > 0 ? platform.tags : platform.sharedTags.slice(0, 1)) {
    const found = await recordAt(manifest, platform, tag, registry);
    if (found) return found;
  }
  return undefined;
}

/**
 * The record the image at the platform's `tag` carries in its labels (the image of the platform's
 * architecture when the tag names an index), or undefined when the tag names nothing of it.
 */
export async function recordAt(
  manifest: Manifest,
  platform: ManifestPlatform,
  tag: string,
  registry: LabelReader,
): Promise<{ record: PlatformRecord; productVersion?: string; plan?: string } | undefined> {
  const ref = qualifiedTag(manifest, platform.repo, tag);
  const parsed = parseReference(ref);
  if (!parsed) return undefined;
  const repo = repositoryOf(parsed);
  let answer;
  try {
    answer = await registry.getManifest(ref);
    if (isIndexMediaType(answer.mediaType)) {
      const entries = (JSON.parse(answer.body.toString('utf8')) as { manifests?: [] }).manifests ?? [];
      const entry = pickPlatformEntry(entries, manifestTargetPlatform(platform));
      if (!entry) return undefined;
      answer = await registry.getManifest(pinnedReference(repo, entry.digest));
    }
  } catch (err) {
    if (err instanceof ImageNotFoundError) return undefined;
    throw err;
  }
  const body = JSON.parse(answer.body.toString('utf8')) as { layers?: Array<{ digest: string; size: number }> };
  const config = await readImageConfig(registry, repo, answer.body);
  if (!config) return undefined;
  const labels = config.config?.Labels ?? {};
  // An image without our labels was built by something else: it is recorded without a build key and rebuilt once.
  const { platforms, ...labelled } = readRecordLabels(labels, ref) ?? {};
  // The record lists the platform's tags the image has now, as a file's record lists the tags pushed.
  const simpleTags = platform.tags.includes(tag) ? await tagsAt(manifest, platform, tag, answer.digest, registry) : [];
  const identity = builtIdentity(platforms, simpleTags);
  const { productVersion, ...recorded } = identity ?? { ...platformRecordIdentity(platform), productVersion: platform.productVersion };
  const record: PlatformRecord = { ...recorded, simpleTags, digest: pinnedReference(repo, answer.digest), ...labelled };
  if (config.created) record.created = config.created;
  const base = baseImageRecord(labels);
  if (base) record.baseImageDigest = base;
  if (body.layers) record.layers = body.layers.map((l) => ({ digest: l.digest, size: l.size }));
  const plan = labels[LABEL_PLAN];
  return { record, ...(productVersion !== undefined ? { productVersion } : {}), ...(plan ? { plan } : {}) };
}

/** `baseImageDigest` (`registry/repo@sha256:…`) from the OCI base-image labels every build writes. */
function baseImageRecord(labels: Readonly<Record<string, string>>): string | undefined {
  const name = parseReference(labels['org.opencontainers.image.base.name'] ?? '');
  const digest = labels['org.opencontainers.image.base.digest'];
  if (!name || !digest || !/^sha256:[0-9a-f]{64}$/.test(digest)) return undefined;
  return pinnedReference(repositoryOf(name), digest);
}

/** The platform's own tags that name the image `digest`, which `read` (one of them) was just read as: one request per other tag. */
async function tagsAt(manifest: Manifest, platform: ManifestPlatform, read: string, digest: string, registry: LabelReader): Promise<string[]> {
  const others = platform.tags.filter((t) => t !== read);
  const heads = await Promise.all(others.map((t) => registry.headManifest(qualifiedTag(manifest, platform.repo, t)).catch(() => undefined)));
  return [read, ...others.filter((_, i) => heads[i]?.digest === digest)].sort();
}

/**
 * Which of the platforms an image was built for this record is: the one sharing a tag with it, else
 * the only one. Images built before the label carry none: undefined (the manifest's platform is taken).
 */
function builtIdentity(identities: PlatformIdentity[] | undefined, simpleTags: string[]): PlatformIdentity | undefined {
  if (!identities || identities.length === 0) return undefined;
  return identities.find((i) => i.simpleTags.some((t) => simpleTags.includes(t))) ?? identities[0];
}
