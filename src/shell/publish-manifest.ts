/**
 * `publish-manifest`: after the legs, publish each image's shared-tag index from the platform digests
 * image-info records, and record it there. The same function as `build --push` publishes with
 * (publishSharedTagIndex), so both publish the same index for the same platforms.
 */
import { digestOfReference } from '../digest.js';
import { InputError } from '../errors.js';
import { acquireLock, ImageInfoStore, indexPlatform, publishSharedTagIndex, type ManifestClient } from '../execute/index.js';
import { findPlatformRecord, readImageInfo, recordedDigestForRun } from '../imageinfo/index.js';
import { loadManifest, qualifiedTag, type LoadManifestOptions, type Manifest, type ManifestImage } from '../manifest/index.js';
import { checkedSharedTag } from '../plan/index.js';

export interface PublishManifestOptions extends LoadManifestOptions {
  manifestFile: string;
  imageInfoFile: string;
  registry: ManifestClient;
  warn: (message: string) => void;
  /** One line per image with shared tags, as it is published (or not, with why). */
  report: (line: string) => void;
  /** How a failure to publish one image reads (the CLI's one-line error form). */
  describeError: (err: unknown) => string;
}

/** Publishes every image's index; resolves to the errors of those that could not be published (none: all were, or were unchanged). */
export async function publishManifests(options: PublishManifestOptions): Promise<unknown[]> {
  const manifest = await loadManifest(options.manifestFile, options);
  const lock = await acquireLock(options.imageInfoFile, { warn: options.warn });
  try {
    const info = await readImageInfo(options.imageInfoFile);
    if (!info) throw new InputError(options.imageInfoFile, undefined, 'no such image-info file');
    // Opened from the file itself, so that a run that publishes nothing new leaves it untouched.
    const store = await ImageInfoStore.open(options.imageInfoFile, manifest);
    const errors: unknown[] = [];
    try {
      for (const repo of manifest.repos) {
        for (const [imageIndex, image] of repo.images.entries()) {
          if (image.sharedTags.length === 0) continue;
          const line = await publishOne(manifest, store, options.registry, { repo: repo.name, imageIndex }, image).catch((err: unknown) => {
            errors.push(err);
            return `index   ${repo.name} [${image.sharedTags.join(', ')}] not published: ${options.describeError(err)}`;
          });
          options.report(line);
        }
      }
    } finally {
      // Index records are written in batches (publishing one again is harmless): write what is left.
      await store.flush();
    }
    return errors;
  } finally {
    await lock.release();
  }
}

/** Publish one image's index unless image-info already records it; returns the line to print. */
async function publishOne(
  manifest: Manifest,
  store: ImageInfoStore,
  registry: ManifestClient,
  which: { repo: string; imageIndex: number },
  image: ManifestImage,
): Promise<string> {
  const platforms = image.platforms.map((p) => {
    const record = findPlatformRecord(store.info, which.repo, p);
    if (!record?.digest) throw new Error(`${p.id} has no pushed image in ${store.file}`);
    return indexPlatform(p, recordedDigestForRun(record.digest, manifest));
  });
  const previous = store.indexRecord(which);
  // As plan checks it: the first recorded shared tag the image still has must name the recorded index (one HEAD).
  const checked = previous?.digest ? checkedSharedTag(image, previous) : undefined;
  const found = checked === undefined ? undefined : (await registry.headManifest(qualifiedTag(manifest, which.repo, checked)))?.digest ?? '';
  const published = await publishSharedTagIndex(registry, {
    platforms,
    sharedTags: image.sharedTags,
    tags: image.sharedTags.map((t) => qualifiedTag(manifest, which.repo, t)),
    previous,
    putBack: found !== undefined && found !== digestOfReference(previous?.digest ?? ''),
    now: () => new Date(),
  });
  const label = `index   ${which.repo} [${image.sharedTags.join(', ')}]`;
  if (published.unchanged) return `${label} unchanged → ${digestOfReference(published.digest)}`;
  await store.recordIndex(which, published.record);
  return `${label} published → ${digestOfReference(published.digest)}`;
}
