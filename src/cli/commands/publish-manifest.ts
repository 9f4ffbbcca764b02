import type { Command } from 'commander';
import { acquireLock, describeIndex, ImageInfoStore, putIndex, type IndexPlatform } from '../../execute/index.js';
import { ExitCode, InputError } from '../../errors.js';
import { findPlatformRecord, readImageInfo } from '../../imageinfo/index.js';
import { loadManifest, qualifiedRepo, qualifiedTag, type Manifest, type ManifestImage } from '../../manifest/index.js';
import { createRegistryClient, type RegistryClient } from '../../registry/index.js';
import { pinnedReference } from '../../reference.js';
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
  // The same platform list, in the same order, as `build --push` publishes: the same index digest.
  const platforms: IndexPlatform[] = image.platforms.map((p) => {
    const record = findPlatformRecord(store.info, which.repo, p);
    if (!record?.digest) throw new Error(`${p.id} has no pushed image in ${store.file}`);
    return { image: record.digest, os: p.os, architecture: p.architecture, ...(p.variant ? { variant: p.variant } : {}) };
  });
  const tags = image.sharedTags.map((t) => qualifiedTag(manifest, which.repo, t));
  const index = await describeIndex(registry, platforms);
  const digest = pinnedReference(qualifiedRepo(manifest, which.repo), index.digest);
  const label = `index   ${which.repo} [${image.sharedTags.join(', ')}]`;
  const previous = store.indexRecord(which);
  if (previous?.digest === digest && sameSet(previous.sharedTags, image.sharedTags)) return `${label} unchanged → ${index.digest}`;
  await putIndex(registry, index, tags);
  await store.recordIndex(which, { digest, sharedTags: [...image.sharedTags], created: new Date().toISOString() });
  return `${label} published → ${index.digest}`;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
