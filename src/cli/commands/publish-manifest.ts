import type { Command } from 'commander';
import { acquireLock, ImageInfoStore, indexPlatform, publishSharedTagIndex } from '../../execute/index.js';
import { digestOfReference } from '../../digest.js';
import { ExitCode, InputError } from '../../errors.js';
import { findPlatformRecord, readImageInfo } from '../../imageinfo/index.js';
import { loadManifest, qualifiedTag, type Manifest, type ManifestImage } from '../../manifest/index.js';
import { createRegistryClient, type RegistryClient } from '../../registry/index.js';
import { manifestOptions, registryOptions, type ManifestCommandOptions } from '../options.js';
import { formatError, warn } from '../output.js';
import { examples } from '../help.js';

interface PublishCommandOptions extends ManifestCommandOptions {
  imageInfo: string;
  insecureRegistry: string[];
}

export function registerPublishManifestCommand(program: Command): void {
  registryOptions(
    manifestOptions(
      program
        .command('publish-manifest')
        .description(
          'After the legs: create or refresh the multi-arch index behind each image\'s shared tags, from the platform ' +
            'digests image-info records, and record it there (unchanged indexes are left alone).',
        ),
    ),
  )
    .requiredOption('-i, --image-info <file>', 'the merged image-info of the legs; updated with each index published')
    .addHelpText(
      'after',
      examples([
          ['imagewright publish-manifest --image-info image-info.json', 'after merge-image-info: push the shared-tag indexes'],
      ]),
    )
    .action(async (options: PublishCommandOptions) => {
      const manifest = await loadManifest(options.manifest, {
        vars: options.var,
        warn,
        registryOverride: options.registryOverride,
        repoPrefix: options.repoPrefix,
      });
      const lock = await acquireLock(options.imageInfo, { warn });
      try {
        const info = await readImageInfo(options.imageInfo);
        if (!info) throw new InputError(options.imageInfo, undefined, 'no such image-info file');
        const store = await ImageInfoStore.open(options.imageInfo, manifest, info);
        const registry = createRegistryClient({ insecureRegistries: options.insecureRegistry });
        let failed = false;
        for (const repo of manifest.repos) {
          for (const [imageIndex, image] of repo.images.entries()) {
            if (image.sharedTags.length === 0) continue;
            const line = await publishOne(manifest, store, registry, { repo: repo.name, imageIndex }, image).catch((err: unknown) => {
              failed = true;
              return `index   ${repo.name} [${image.sharedTags.join(', ')}] not published: ${formatError(err)}`;
            });
            process.stdout.write(`${line}\n`);
          }
        }
        if (failed) process.exitCode = ExitCode.failure;
      } finally {
        await lock.release();
      }
    });
}

/** Publish one image's index unless image-info already records it; returns the line to print. */
async function publishOne(
  manifest: Manifest,
  store: ImageInfoStore,
  registry: RegistryClient,
  which: { repo: string; imageIndex: number },
  image: ManifestImage,
): Promise<string> {
  const platforms = image.platforms.map((p) => {
    const record = findPlatformRecord(store.info, which.repo, p);
    if (!record?.digest) throw new Error(`${p.id} has no pushed image in ${store.file}`);
    return indexPlatform(p, record.digest);
  });
  const published = await publishSharedTagIndex(registry, {
    platforms,
    sharedTags: image.sharedTags,
    tags: image.sharedTags.map((t) => qualifiedTag(manifest, which.repo, t)),
    previous: store.indexRecord(which),
    now: () => new Date(),
  });
  const label = `index   ${which.repo} [${image.sharedTags.join(', ')}]`;
  if (published.unchanged) return `${label} unchanged → ${digestOfReference(published.digest)}`;
  await store.recordIndex(which, published.record);
  return `${label} published → ${digestOfReference(published.digest)}`;
}
