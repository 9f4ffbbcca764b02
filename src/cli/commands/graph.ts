import { Option, type Command } from 'commander';
import { renderGraphDot, renderGraphJson, renderGraphMermaid } from '../../graph/index.js';
import { loadRepository } from '../../shell/plan.js';
import { manifestLoadOptions, manifestOptions, type ManifestCommandOptions } from '../options.js';
import { warn } from '../output.js';

interface GraphOptions extends ManifestCommandOptions {
  format: 'json' | 'mermaid' | 'dot';
}

export function registerGraphCommand(program: Command): void {
  manifestOptions(
    program
      .command('graph')
      .description('Print the dependency graph between the manifest\'s platforms (offline: reads only files).'),
  )
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'mermaid', 'dot']).default('json'))
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
