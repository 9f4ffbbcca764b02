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
import { ImageInfoDocument, type ImageKey } from './document.js';
import type { ImageInfo, ImageRecord, ManifestRecord, PlatformRecord } from './types.js';

export type { ImageKey } from './document.js';

/** `info` with `record` as the record of its platform in the image `imageKey` of `repo`, replacing any previous one whole. */
export function upsertPlatformRecord(info: ImageInfo, repo: string, imageKey: ImageKey, record: PlatformRecord): ImageInfo {
  const document = new ImageInfoDocument(info);
  document.upsertPlatform(repo, imageKey, record);
  return document.toInfo();
}

/** `info` with `manifest` as the multi-arch index record of the image `imageKey` of `repo`. */
export function setImageManifest(info: ImageInfo, repo: string, imageKey: ImageKey, manifest: ManifestRecord): ImageInfo {
  const document = new ImageInfoDocument(info);
  document.setManifest(repo, imageKey, manifest);
  return document.toInfo();
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
