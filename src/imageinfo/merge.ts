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
import { canonicalJson, digestOfReference } from '../digest.js';
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
  const merged = new ImageInfoDocument(base ? unchangedByLegs(base) : { schemaVersion: '2.0', repos: [] });
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
  const info = merged.toInfo();
  checkUpstreamDigests(info, legs);
  return info;
}

/**
 * Every image a leg built or reused read the images of this manifest that the merged file records:
 * an internal read's digest equals the digest recorded for its upstream (the record with the build
 * key the read names). A leg that read an upstream which was built again since (its leg re-run, and
 * rebuilt rather than reused) would otherwise be merged pointing at an image the file no longer holds.
 */
function checkUpstreamDigests(info: ImageInfo, legs: readonly ImageInfoSource[]): void {
  const byKey = new Map<string, Array<{ repo: string; record: PlatformRecord }>>();
  for (const repo of info.repos) {
    for (const image of repo.images) {
      for (const record of image.platforms) if (record.buildKey && record.digest) addTo(byKey, record.buildKey, { repo: repo.repo, record });
    }
  }
  const fileOf = new Map<string, string>();
  for (const { file, info: leg } of legs) {
    for (const repo of leg.repos) for (const image of repo.images) for (const record of image.platforms) fileOf.set(digestOfReference(record.digest), file);
  }
  for (const { file, info: leg } of legs) {
    leg.repos.forEach((repo, r) =>
      repo.images.forEach((image, i) =>
        image.platforms.forEach((record, p) =>
          (record.fromImages ?? []).forEach((read, n) => {
            const upstreams = read.internal && read.buildKey && read.digest ? byKey.get(read.buildKey) : undefined;
            if (!upstreams || upstreams.some((u) => digestOfReference(u.record.digest) === digestOfReference(read.digest))) return;
            const [upstream] = upstreams as [{ repo: string; record: PlatformRecord }];
            const recorded = digestOfReference(upstream.record.digest);
            const where = fileOf.get(recorded) ?? 'the base image-info';
            throw new InputError(
              file,
              `repos[${r}].images[${i}].platforms[${p}].fromImages[${n}]`,
              `${repo.repo} ${describe(record)} was built from ${read.ref} at ${read.digest}, but the merged image-info records that image ` +
                `(${upstream.repo} ${describe(upstream.record)}, same build key) at ${recorded}, from ${where}: its leg ran again and built it anew after this leg read it; ` +
                'run the legs that read it again',
            );
          }),
        ),
      ),
    );
  }
}

/**
 * The base with every platform marked `isUnchanged`: a record the merge keeps from the base, because no
 * leg wrote one, describes an image this run neither built nor tagged, as a single run marks a
 * platform it reused (a platform `matrix --only-changed` left out of every leg). Leg records replace
 * these whole.
 */
function unchangedByLegs(base: ImageInfo): ImageInfo {
  return {
    ...base,
    repos: base.repos.map((repo) => ({
      ...repo,
      images: repo.images.map((image) => ({ ...image, platforms: image.platforms.map((p) => (p.isUnchanged ? p : { ...p, isUnchanged: true })) })),
    })),
  };
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

