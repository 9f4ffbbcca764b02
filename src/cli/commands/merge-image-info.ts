import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { acquireLock } from '../../execute/index.js';
import { InputError } from '../../errors.js';
import { mergeImageInfo, readImageInfo, removePlatformsNotInManifest, withManifestRepoNames, writeImageInfo, type ImageInfo } from '../../imageinfo/index.js';
import { loadManifest } from '../../manifest/index.js';
import { manifestOptions, type ManifestCommandOptions } from '../options.js';
import { warn } from '../output.js';
import { examples } from '../help.js';

interface MergeCommandOptions extends ManifestCommandOptions {
  out: string;
  base?: string;
  publish?: boolean;
}

export function registerMergeImageInfoCommand(program: Command): void {
  manifestOptions(
    program
      .command('merge-image-info')
      .description('Merge the image-info files of build legs (build --image-info-out) into one.')
      .argument('<leg-files...>', 'image-info files the legs wrote'),
  )
    .requiredOption('-o, --out <file>', 'the merged image-info; when it exists and --base is not given, the legs are merged into it')
    .option('--base <file>', 'the image-info the legs started from (default: --out when it exists)')
    .option('--publish', 'also drop the platforms the manifest no longer has (reads --manifest)')
    .addHelpText(
      'after',
      `
A leg's record of a platform replaces the base's record whole. Two legs with different records for the
same platform (or different indexes for the same image) are an error: they overlapped or came from
different runs. Pass the previous image-info as --base (or as --out), never as a leg file.`,
    )
    .addHelpText(
      'after',
      examples([
          ['imagewright merge-image-info --out image-info.json legs/*.json', "the legs' records over the committed image-info.json"],
          ['imagewright merge-image-info --publish --out image-info.json legs/*.json', 'the same, dropping platforms the manifest no longer has'],
      ]),
    )
    .action(async (legFiles: string[], options: MergeCommandOptions) => {
      const lock = await acquireLock(options.out, { warn });
      try {
        const baseFile = options.base ?? (existsSync(options.out) ? options.out : undefined);
        const base = baseFile ? await readRequired(baseFile) : undefined;
        const legs = await Promise.all(legFiles.map(async (file) => ({ file, info: await readRequired(file) })));
        let merged = mergeImageInfo(base, legs);
        if (options.publish) {
          const manifest = await loadManifest(options.manifest, {
            vars: options.var,
            warn,
            registryOverride: options.registryOverride,
            repoPrefix: options.repoPrefix,
          });
          merged = removePlatformsNotInManifest(withManifestRepoNames(merged, manifest), manifest);
        }
        await writeImageInfo(options.out, merged);
        const count = merged.repos.reduce((n, r) => n + r.images.reduce((m, i) => m + i.platforms.length, 0), 0);
        process.stderr.write(`merged ${legFiles.length} leg file(s)${baseFile ? ` over ${baseFile}` : ''} into ${options.out}: ${count} platform record(s)\n`);
      } finally {
        await lock.release();
      }
    });
}

async function readRequired(file: string): Promise<ImageInfo> {
  const info = await readImageInfo(file);
  if (!info) throw new InputError(file, undefined, 'no such image-info file');
  return info;
}
