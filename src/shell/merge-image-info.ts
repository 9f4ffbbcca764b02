/**
 * `merge-image-info`: the image-info files of build legs merged into one, over a base, under the
 * output file's lock, written at once.
 */
import { existsSync } from 'node:fs';
import { InputError } from '../errors.js';
import { acquireLock } from '../execute/index.js';
import { mergeImageInfo, readImageInfo, removePlatformsNotInManifest, withManifestRepoNames, writeImageInfo, type ImageInfo } from '../imageinfo/index.js';
import { loadManifest, type LoadManifestOptions } from '../manifest/index.js';

export interface MergeOptions {
  legFiles: readonly string[];
  out: string;
  /** The image-info the legs started from; default: `out` when it exists. */
  base?: string;
  /** Also drop the platforms the manifest no longer has (reads the manifest). */
  publish?: LoadManifestOptions & { manifestFile: string };
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
    let merged = mergeImageInfo(base, legs);
    if (options.publish) {
      const manifest = await loadManifest(options.publish.manifestFile, { ...options.publish, warn: options.warn });
      merged = removePlatformsNotInManifest(withManifestRepoNames(merged, manifest), manifest);
    }
    await writeImageInfo(options.out, merged);
    const platformCount = merged.repos.reduce((n, r) => n + r.images.reduce((m, i) => m + i.platforms.length, 0), 0);
    return { baseFile, platformCount };
  } finally {
    await lock.release();
  }
}

async function readRequired(file: string): Promise<ImageInfo> {
  const info = await readImageInfo(file);
  if (!info) throw new InputError(file, undefined, 'no such image-info file');
  return info;
}
