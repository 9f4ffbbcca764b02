import { Option, type Command } from 'commander';
import { renderGraphDot, renderGraphJson, renderGraphMermaid } from '../../graph/index.js';
import { loadRepository } from '../../shell/plan.js';
import { baseOverrideOptions, manifestLoadOptions, manifestOptions, type ManifestCommandOptions } from '../options.js';
import { warn } from '../output.js';
import { examples } from '../help.js';

interface GraphOptions extends ManifestCommandOptions {
  format: 'json' | 'mermaid' | 'dot';
}

export function registerGraphCommand(program: Command): void {
  baseOverrideOptions(
    manifestOptions(
      program
        .command('graph')
        .description('Print the dependency graph between the manifest\'s platforms (offline: reads only files).'),
    ),
  )
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'mermaid', 'dot']).default('json'))
    .addHelpText(
      'after',
      examples([
          ['imagewright graph --format mermaid > graph.mmd', 'a Mermaid flowchart of which image reads which'],
          ['imagewright graph --format dot | dot -Tsvg > graph.svg', 'a Graphviz picture, platforms clustered by repo'],
      ]),
    )
    .action(async (options: GraphOptions) => {
      const { graph } = await loadRepository({
        ...manifestLoadOptions(options),
        warn,
        skipContexts: true,
      });
      const render = { json: renderGraphJson, mermaid: renderGraphMermaid, dot: renderGraphDot }[options.format];
      process.stdout.write(render(graph).replace(/\n?$/, '\n'));
    });
}
