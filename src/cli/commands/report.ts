import { Option, type Command } from 'commander';
import { writeFileAtomic } from '../../atomic-write.js';
import { createRegistryClient } from '../../registry/index.js';
import { reportPage, type ReportDecisions } from '../../shell/report.js';
import {
  baseOverrideOptions,
  buildArgOptions,
  manifestLoadOptions,
  manifestOptions,
  registryOptions,
  type CommandLineBuildArgs,
  type ManifestCommandOptions,
} from '../options.js';
import { warn } from '../output.js';
import { examples } from '../help.js';

interface ReportCommandOptions extends ManifestCommandOptions {
  out: string;
  imageInfo?: string;
  plan?: string;
  offline?: boolean;
  cache: boolean;
  insecureRegistry: string[];
  buildArg?: CommandLineBuildArgs;
}

export function registerReportCommand(program: Command): void {
  buildArgOptions(
    registryOptions(
      baseOverrideOptions(
        manifestOptions(
          program
            .command('report')
            .description(
              'Write the plan as one self-contained HTML page: the graph coloured by decision, search, filters, and each platform\'s reasons, inputs and path to the change.',
            ),
        ),
      ),
    ),
  )
    .option('-o, --out <file>', 'the HTML file to write', 'report.html')
    .option('-i, --image-info <file>', 'the image-info.json of the previous run, as for plan')
    .addOption(new Option('--plan <file>', 'take the decisions from a plan saved with `plan --format json` (reads no registry)').conflicts('offline'))
    .addOption(new Option('--offline', 'the graph only, no decisions: reads only files (for registries that cannot be reached)'))
    .option('--no-cache', 'decide to build every platform, as plan --no-cache')
    .addHelpText(
      'after',
      `
The page needs no network: its script, styles, layout library (dagre) and data are inline. Above
600 platforms it opens in the list view; the graph view draws the platforms the search and filters leave.`,
    )
    .addHelpText(
      'after',
      examples([
        ['imagewright report --image-info image-info.json --out report.html', 'plan as `plan` does, and draw it'],
        ['imagewright plan --image-info image-info.json --format json > plan.json && imagewright report --plan plan.json', 'draw a saved plan'],
        ['imagewright report --offline --out graph.html', 'the graph alone, without a registry'],
      ]),
    )
    .action(async (options: ReportCommandOptions) => {
      const decisions: ReportDecisions = options.offline
        ? { from: 'graph' }
        : options.plan !== undefined
          ? { from: 'saved-plan', file: options.plan }
          : {
              from: 'plan',
              plan: {
                imageInfoFile: options.imageInfo,
                registry: createRegistryClient({ insecureRegistries: options.insecureRegistry }),
                noCache: !options.cache,
              },
            };
      const html = await reportPage({ ...manifestLoadOptions(options), warn, commandLineBuildArgs: options.buildArg }, decisions);
      await writeFileAtomic(options.out, html);
      process.stderr.write(`wrote ${options.out}\n`);
    });
}
