import { Option, type Command } from 'commander';
import { planOption, type MatrixPlan } from '../../matrix/index.js';
import { mergeLegFiles } from '../../shell/merge-image-info.js';
import { manifestLoadOptions, manifestOptions, wholeNumber, type ManifestCommandOptions } from '../options.js';
import { warn } from '../output.js';
import { examples } from '../help.js';
import { messageLine } from '../../paths.js';

interface MergeCommandOptions extends ManifestCommandOptions {
  out: string;
  base?: string;
  publish?: boolean;
  plan?: MatrixPlan;
  wave?: number;
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
    .option('--publish', 'also drop the platforms the manifest no longer has (reads --manifest); a leg record that matches no platform is an error')
    .addOption(new Option('--plan <json>', "the matrix's plan (`matrix` prints it: plan in its JSON, plan= in $GITHUB_OUTPUT); default: the plan the leg files carry").argParser(planOption))
    .addOption(new Option('--wave <n>', 'only the legs of waves 0 to n are expected (a merge before wave n+1)').argParser(wholeNumber(0)))
    .addHelpText(
      'after',
      `
A leg's record of a platform replaces the base's record whole. Two legs with different records for the
same platform (or different indexes for the same image) are an error: they overlapped or came from
different runs. Pass the previous image-info as --base (or as --out), never as a leg file.

All or nothing: a leg file written by build --leg --plan carries the matrix's plan. Every planned leg
(of waves 0 to --wave) must have exactly one leg file, and every leg file must be of that plan;
otherwise nothing is written and the exit code is 2.`,
    )
    .addHelpText(
      'after',
      examples([
          ['imagewright merge-image-info --out image-info.json legs/*.json', "the legs' records over the committed image-info.json"],
          ['imagewright merge-image-info --publish --out image-info.json legs/*.json', 'the same, dropping platforms the manifest no longer has'],
      ]),
    )
    .action(async (legFiles: string[], options: MergeCommandOptions) => {
      const { baseFile, platformCount } = await mergeLegFiles({
        legFiles,
        out: options.out,
        ...(options.base !== undefined ? { base: options.base } : {}),
        ...(options.publish
          ? { publish: manifestLoadOptions(options) }
          : {}),
        expected: { ...(options.plan && { plan: options.plan }), ...(options.wave !== undefined && { throughWave: options.wave }) },
        warn,
      });
      process.stderr.write(`${messageLine(`merged ${legFiles.length} leg file(s)${baseFile ? ` over ${baseFile}` : ''} into ${options.out}: ${platformCount} platform record(s)`)}\n`);
    });
}
