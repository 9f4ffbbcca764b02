import type { Command } from 'commander';
import { ExitCode } from '../../errors.js';
import { createRegistryClient } from '../../registry/index.js';
import { publishManifests } from '../../shell/publish-manifest.js';
import { manifestLoadOptions, manifestOptions, registryOptions, type ManifestCommandOptions } from '../options.js';
import { errorExitCode, formatError, warn, writeOutput } from '../output.js';
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
      const errors = await publishManifests({
        ...manifestLoadOptions(options),
        imageInfoFile: options.imageInfo,
        registry: createRegistryClient({ insecureRegistries: options.insecureRegistry }),
        warn,
        report: (line) => writeOutput(`${line}\n`),
        describeError: formatError,
      });
      // A registry that refused, failed or is gone: exit 3, as every other registry error.
      const [first] = errors;
      if (first === undefined) return;
      process.stderr.write(`imagewright: error: ${errors.length} index(es) not published: ${formatError(first)}\n`);
      process.exitCode = errorExitCode(first) === ExitCode.registry ? ExitCode.registry : ExitCode.failure;
    });
}
