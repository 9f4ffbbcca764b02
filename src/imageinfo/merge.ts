/**
 * Merging the image-info files of build legs (parallel CI jobs) into one. Pure.
 *
 * Each leg file holds the records of the platforms that leg built or reused (and the index of an
 * image the leg published whole). They are laid over a base, the image-info the legs started from:
 * a platform's record replaces the base's record whole, so nothing of the old one (its fromImages,
 * layers, inputs) survives. Legs hold disjoint platforms by construction; two leg files with
 * different records for the same platform, or different indexes for the same image, mean the legs
 * came from different runs or overlapped, and are an error rather than a guess.
 */
import { canonicalJson } from '../digest.js';
import { InputError } from '../errors.js';
import type { Manifest, ManifestPlatform } from '../manifest/types.js';
import { ImageInfoDocument } from './document.js';
import { identityBucket, recordAsPlatformKey, recordBelongsTo } from './match.js';
import { removePlatformsNotIn, type ImageKey } from './update.js';
import type { ImageInfo, ImageRecord, ManifestRecord, PlatformRecord } from './types.js';

export interface ImageInfoSource {
  /** As the user named it, for messages. */
  file: string;
  info: ImageInfo;
}

interface Claim {
  file: string;
  location: string;
  repo: string;
  record: PlatformRecord;
  /** The image record holding it: its product version is part of the record's identity. */
  image: ImageRecord;
}

interface IndexClaim {
  file: string;
  location: string;
  repo: string;
  sharedTags: string[];
  manifest: ManifestRecord;
}

/**
 * `base` (or an empty image-info) with every leg's records laid over it. Throws InputError on a disagreement.
 * One document takes every record, and claims are found by identity bucket: N records cost about N.
 */
export function mergeImageInfo(base: ImageInfo | undefined, legs: readonly ImageInfoSource[]): ImageInfo {
  const merged = new ImageInfoDocument(base ?? { schemaVersion: '2.0', repos: [] });
  const claims = new Map<string, Claim[]>();
  const indexClaims = new Map<string, IndexClaim>();
  for (const { file, info } of legs) {
    info.repos.forEach((repoRecord, r) => {
      repoRecord.images.forEach((image, i) => {
        const key = imageKeyOf(image);
        image.platforms.forEach((record, p) => {
          const location = `repos[${r}].images[${i}].platforms[${p}]`;
          claim(claims, { file, location, repo: repoRecord.repo, record, image });
          merged.upsertPlatform(repoRecord.repo, key, record);
        });
        if (image.manifest?.digest) {
          const location = `repos[${r}].images[${i}].manifest`;
          claimIndex(indexClaims, { file, location, repo: repoRecord.repo, sharedTags: key.sharedTags, manifest: image.manifest });
          merged.setManifest(repoRecord.repo, key, image.manifest);
        }
      });
    });
  }
  return merged.toInfo();
}

/** `info` without the platforms `manifest` no longer has (ImageBuilder's publish-time merge). */
export function removePlatformsNotInManifest(info: ImageInfo, manifest: Pick<Manifest, 'repos'>): ImageInfo {
  // The manifest's platforms by repo and identity bucket: only those can claim a record.
  const byBucket = new Map<string, ManifestPlatform[]>();
  for (const repo of manifest.repos) {
    for (const image of repo.images) {
      for (const platform of image.platforms) addTo(byBucket, `${repo.name}\0${identityBucket(platform.dockerfile, platform.os)}`, platform);
    }
  }
  return removePlatformsNotIn(info, (repo, record, recordImage) =>
    (byBucket.get(`${repo}\0${identityBucket(record.dockerfile, record.osType)}`) ?? []).some((platform) => recordBelongsTo(record, recordImage, platform)),
  );
}

function imageKeyOf(image: ImageRecord): ImageKey {
  const key: ImageKey = { sharedTags: image.manifest?.sharedTags ?? [], platforms: image.platforms.map(recordAsPlatformKey) };
  if (image.productVersion !== undefined) key.productVersion = image.productVersion;
  return key;
}

function claim(claims: Map<string, Claim[]>, next: Claim): void {
  const key = { ...recordAsPlatformKey(next.record), productVersion: next.image.productVersion };
  const bucket = `${next.repo}\0${identityBucket(key.dockerfile, key.os)}`;
  const earlier = claims.get(bucket)?.find((c) => recordBelongsTo(c.record, c.image, key));
  if (earlier) {
    if (canonicalJson(earlier.record) === canonicalJson(next.record)) return;
    throw new InputError(next.file, next.location, `disagrees with ${earlier.file} (${earlier.location}) about ${next.repo} ${describe(next.record)}: ${difference(earlier.record, next.record)}`);
  }
  addTo(claims, bucket, next);
}

function claimIndex(claims: Map<string, IndexClaim>, next: IndexClaim): void {
  const tags = [...next.sharedTags].sort().join(',');
  const earlier = claims.get(`${next.repo}\0${tags}`);
  if (!earlier) {
    claims.set(`${next.repo}\0${tags}`, next);
    return;
  }
  if (earlier.manifest.digest !== next.manifest.digest) {
    throw new InputError(
      next.file,
      next.location,
      `disagrees with ${earlier.file} (${earlier.location}) about the index of ${next.repo} [${tags}]: ${earlier.manifest.digest} vs ${next.manifest.digest}`,
    );
  }
}

function addTo<V>(map: Map<string, V[]>, key: string, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function describe(record: PlatformRecord): string {
  return `${record.dockerfile} (${record.osType}/${record.architecture}${record.variant ? `/${record.variant}` : ''}, ${record.osVersion})`;
}

/** The first field that differs, for the message. */
function difference(a: PlatformRecord, b: PlatformRecord): string {
  for (const field of ['digest', 'buildKey', 'simpleTags', 'created'] as const) {
    if (canonicalJson(a[field]) !== canonicalJson(b[field])) return `${field} ${short(a[field])} vs ${short(b[field])}`;
  }
  return 'the records differ';
}

function short(value: unknown): string {
  return value === undefined ? '(none)' : typeof value === 'string' ? value : JSON.stringify(value);
}

