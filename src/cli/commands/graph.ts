import { Option, type Command } from 'commander';
import { renderGraphDot, renderGraphJson, renderGraphMermaid } from '../../graph/index.js';
import { filteredGraph } from '../../plan/index.js';
import { loadRepository } from '../../shell/plan.js';
import { baseOverrideOptions, filterOptions, manifestLoadOptions, manifestOptions, platformFilter, type FilterCommandOptions, type ManifestCommandOptions } from '../options.js';
import { warn, writeOutput } from '../output.js';
import { examples } from '../help.js';

interface GraphOptions extends ManifestCommandOptions, FilterCommandOptions {
  format: 'json' | 'mermaid' | 'dot';
}

export function registerGraphCommand(program: Command): void {
  filterOptions(baseOverrideOptions(
    manifestOptions(
      program
        .command('graph')
        .description('Print the dependency graph between the manifest\'s platforms (offline: reads only files).'),
    ),
  ))
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'mermaid', 'dot']).default('json'))
    .addHelpText(
      'after',
      examples([
          ['imagewright graph --format mermaid > graph.mmd', 'a Mermaid flowchart of which image reads which'],
          ['imagewright graph --format dot | dot -Tsvg > graph.svg', 'a Graphviz picture, platforms clustered by repo'],
      ]),
    )
    .action(async (options: GraphOptions) => {
      const loaded = await loadRepository({
        ...manifestLoadOptions(options),
        warn,
        skipContexts: true,
      });
      const graph = filteredGraph(loaded.graph, platformFilter(options));
      const render = { json: renderGraphJson, mermaid: renderGraphMermaid, dot: renderGraphDot }[options.format];
      writeOutput(render(graph).replace(/\n?$/, '\n'));
    });
}
