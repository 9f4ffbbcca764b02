/**
 * `merge-image-info`: the image-info files of build legs merged into one, over a base, under the
 * output file's lock, written at once.
 */
import { existsSync } from 'node:fs';
import { InputError } from '../errors.js';
import { acquireLock } from '../execute/index.js';
import { mergeImageInfo, readImageInfo, removePlatformsNotInManifest, imageInfoForFile, writeImageInfo, type ImageInfo } from '../imageinfo/index.js';
import { loadManifest, type LoadManifestOptions, type Manifest } from '../manifest/index.js';
import { checkLegFiles, legStampOf, type ExpectedLegs } from '../matrix/index.js';

export interface MergeOptions {
  legFiles: readonly string[];
  out: string;
  /** The image-info the legs started from; default: `out` when it exists. */
  base?: string;
  /** Also drop the platforms the manifest no longer has (reads the manifest). */
  publish?: LoadManifestOptions & { manifestFile: string };
  /** Which leg files to expect: the matrix's plan (--plan) and the last wave merged (--wave). */
  expected?: ExpectedLegs;
  warn: (message: string) => void;
}

export interface MergeResult {
  /** The base the legs were merged over, if any. */
  baseFile: string | undefined;
  /** Platform records in the merged file. */
  platformCount: number;
}

export async function mergeLegFiles(options: MergeOptions): Promise<MergeResult> {
  const lock = await acquireLock(options.out, { warn: options.warn });
  try {
    const baseFile = options.base ?? (existsSync(options.out) ? options.out : undefined);
    const base = baseFile ? await readRequired(baseFile) : undefined;
    const legs = await Promise.all(options.legFiles.map(async (file) => ({ file, info: await readRequired(file) })));
    // All or nothing: every planned leg has its file, and every file is of that plan.
    checkLegFiles(
      legs.map(({ file, info }) => ({ file, stamp: legStampOf(file, info) })),
      options.expected ?? {},
    );
    let merged = withoutLegStamp(mergeImageInfo(base, legs));
    if (options.publish) {
      const manifest = await loadManifest(options.publish.manifestFile, { ...options.publish, warn: options.warn });
      for (const leg of legs) checkLegMatchesManifest(leg, manifest, options.publish.manifestFile);
      merged = removePlatformsNotInManifest(imageInfoForFile(merged, manifest), manifest);
    }
    await writeImageInfo(options.out, merged);
    const platformCount = merged.repos.reduce((n, r) => n + r.images.reduce((m, i) => m + i.platforms.length, 0), 0);
    return { baseFile, platformCount };
  } finally {
    await lock.release();
  }
}

/**
 * A leg built from this manifest has no record that the manifest does not have: one that matches
 * nothing means the merge was not given the build's --registry-override/--repo-prefix (or --var).
 */
function checkLegMatchesManifest(leg: { file: string; info: ImageInfo }, manifest: Manifest, manifestFile: string): void {
  const kept = new Set(
    removePlatformsNotInManifest(imageInfoForFile(leg.info, manifest), manifest).repos.flatMap((r) => r.images.flatMap((i) => i.platforms)),
  );
  const renamed = imageInfoForFile(leg.info, manifest);
  renamed.repos.forEach((repo, r) =>
    repo.images.forEach((image, i) =>
      image.platforms.forEach((record, p) => {
        if (kept.has(record)) return;
        throw new InputError(
          leg.file,
          `repos[${r}].images[${i}].platforms[${p}]`,
          `${repo.repo} ${record.dockerfile} matches no platform of ${manifestFile}: give merge-image-info --publish the --registry-override, --repo-prefix and --var the build had`,
        );
      }),
    ),
  );
}

/** The merged file is not a leg file: it carries no leg's stamp. */
function withoutLegStamp(info: ImageInfo): ImageInfo {
  const merged = { ...info };
  delete merged.imagewrightLeg;
  return merged;
}

async function readRequired(file: string): Promise<ImageInfo> {
  const info = await readImageInfo(file);
  if (!info) throw new InputError(file, undefined, 'no such image-info file');
  return info;
}
