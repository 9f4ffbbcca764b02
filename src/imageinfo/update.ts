/**
 * Changing an image-info without mutating it: each function returns a new ImageInfo that shares
 * the parts it did not change.
 *
 * Which image of a repo a platform belongs to follows ImageBuilder, which ties an image record to
 * the manifest image one of its platforms matches (same Dockerfile, OS, OS version, architecture,
 * and the same tag state: both with their own tags or both without), with product versions equal
 * or agreeing in major.minor. Before that, an image whose index has exactly the same shared tags is
 * taken, as those name one image of a repo. Pass the manifest image's platforms in the key (a
 * ManifestImage fits) so that a platform new to an image still finds it when its shared tags changed.
 *
 * New repos, images and platforms are inserted in sorted position (repo name; product version and
 * first platform; Dockerfile, architecture, OS, OS version), so the file does not depend on the
 * order in which builds finished.
 */
import { equivalentProductVersions, recordAsPlatformKey, recordBelongsTo, recordMatchesPlatform, sameRecordIdentity, sameTagSet, sameTagState, type PlatformKey } from './match.js';
import type { ImageInfo, ImageRecord, ManifestRecord, PlatformRecord, RepoRecord } from './types.js';

/** What identifies an image of a repo: a ManifestImage fits. */
export interface ImageKey {
  productVersion?: string;
  sharedTags: string[];
  /** The manifest image's platforms; used to find the image record when shared tags do not. */
  platforms?: PlatformKey[];
  /**
   * `platforms` are all of the image's platforms, with their tags (the manifest's image): a record of
   * the image that none of them claims is stale (its tags were renamed) and a new record replaces it.
   */
  complete?: boolean;
}

/** `info` with `record` as the record of its platform in the image `imageKey` of `repo`, replacing any previous one whole. */
export function upsertPlatformRecord(info: ImageInfo, repo: string, imageKey: ImageKey, record: PlatformRecord): ImageInfo {
  return updateImage(info, repo, imageKey, [record], (image) => {
    const platforms = [...image.platforms];
    let index = platforms.findIndex((existing) => sameRecordIdentity(existing, record, image));
    if (index < 0 && imageKey.complete) index = platforms.findIndex((existing) => isStaleRecordOf(existing, record, image, imageKey));
    if (index >= 0) platforms[index] = record;
    else insertSorted(platforms, record, comparePlatforms);
    const updated: ImageRecord = { ...image, platforms };
    if (imageKey.productVersion !== undefined) updated.productVersion = imageKey.productVersion;
    else delete updated.productVersion;
    // As ImageBuilder does for an image with shared tags: the index is recorded, digest unknown until pushed.
    if (!updated.manifest && imageKey.sharedTags.length > 0) updated.manifest = { digest: '', sharedTags: [...imageKey.sharedTags] };
    return updated;
  });
}

/** `existing` is what ImageBuilder would take for `record`'s platform, and no platform of the image claims it. */
function isStaleRecordOf(existing: PlatformRecord, record: PlatformRecord, image: ImageRecord, imageKey: ImageKey): boolean {
  const key = recordAsPlatformKey(record);
  if (!recordMatchesPlatform(existing, key) || sameTagState(existing, key) === false) return false;
  return !(imageKey.platforms ?? []).some((p) => recordBelongsTo(existing, image, { ...p, productVersion: image.productVersion }));
}

/** `info` with `manifest` as the multi-arch index record of the image `imageKey` of `repo`. */
export function setImageManifest(info: ImageInfo, repo: string, imageKey: ImageKey, manifest: ManifestRecord): ImageInfo {
  return updateImage(info, repo, imageKey, [], (image) => ({ ...image, manifest }));
}

/** `info` without the platform records `keep` rejects, and without images and repos left empty. */
export function removePlatformsNotIn(info: ImageInfo, keep: (repo: string, record: PlatformRecord, image: ImageRecord) => boolean): ImageInfo {
  const repos = info.repos
    .map((r) => ({
      ...r,
      images: r.images.map((image) => ({ ...image, platforms: image.platforms.filter((p) => keep(r.repo, p, image)) })).filter((image) => image.platforms.length > 0),
    }))
    .filter((r) => r.images.length > 0);
  return { ...info, repos };
}

function updateImage(info: ImageInfo, repo: string, imageKey: ImageKey, records: PlatformRecord[], change: (image: ImageRecord) => ImageRecord): ImageInfo {
  const repos = [...info.repos];
  let repoIndex = repos.findIndex((r) => r.repo === repo);
  if (repoIndex < 0) repoIndex = insertSorted(repos, { repo, images: [] }, (a, b) => compareStrings(a.repo, b.repo));
  const repoRecord = repos[repoIndex] as RepoRecord;
  const images = [...repoRecord.images];
  const imageIndex = findImage(images, imageKey, records);
  if (imageIndex >= 0) images[imageIndex] = change(images[imageIndex] as ImageRecord);
  else {
    const fresh: ImageRecord = { platforms: [] };
    if (imageKey.productVersion !== undefined) fresh.productVersion = imageKey.productVersion;
    insertSorted(images, change(fresh), compareImages);
  }
  repos[repoIndex] = { ...repoRecord, images };
  return { ...info, repos };
}

/** Index of the image record `key` names, or -1. */
function findImage(images: ImageRecord[], key: ImageKey, records: PlatformRecord[]): number {
  if (key.sharedTags.length > 0) {
    const byTags = images.findIndex((image) => sameTagSet(image.manifest?.sharedTags ?? [], key.sharedTags));
    if (byTags >= 0) return byTags;
  }
  const platforms = key.platforms ?? records.map(recordAsPlatformKey);
  const candidate = (image: ImageRecord): boolean =>
    equivalentProductVersions(image.productVersion, key.productVersion) &&
    // An index with none of our shared tags is another image, however alike its platforms.
    !(key.sharedTags.length > 0 && (image.manifest?.sharedTags.length ?? 0) > 0 && !image.manifest?.sharedTags.some((t) => key.sharedTags.includes(t)));
  // The image holding a record of one of our platforms; else (a platform new to its image) one holding
  // a record ImageBuilder would take for one of them.
  const owning = images.findIndex(
    (image) => candidate(image) && image.platforms.some((record) => platforms.some((p) => recordBelongsTo(record, image, { ...p, productVersion: image.productVersion }))),
  );
  if (owning >= 0) return owning;
  return images.findIndex(
    (image) => candidate(image) && image.platforms.some((record) => platforms.some((p) => recordMatchesPlatform(record, p) && sameTagState(record, p) !== false)),
  );
}

/** Inserts before the first element that sorts after `item`; returns its index. */
function insertSorted<T>(list: T[], item: T, compare: (a: T, b: T) => number): number {
  let index = list.findIndex((existing) => compare(item, existing) < 0);
  if (index < 0) index = list.length;
  list.splice(index, 0, item);
  return index;
}

function platformIdentifier(p: PlatformRecord): string {
  return `${p.dockerfile}-${p.architecture}-${p.osType}-${p.osVersion}`;
}

function comparePlatforms(a: PlatformRecord, b: PlatformRecord): number {
  return compareStrings(platformIdentifier(a), platformIdentifier(b));
}

function compareImages(a: ImageRecord, b: ImageRecord): number {
  const first = (image: ImageRecord): string => image.platforms.map(platformIdentifier).sort(compareStrings)[0] ?? '';
  return compareStrings(a.productVersion ?? '', b.productVersion ?? '') || compareStrings(first(a), first(b));
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
