import { Option, type Command } from 'commander';
import { ExitCode } from '../../errors.js';
import { renderPlanJson, renderPlanText } from '../../plan/index.js';
import { createRegistryClient } from '../../registry/index.js';
import { planRepository } from '../../shell/plan.js';
import { manifestLoadOptions, manifestOptions, type ManifestCommandOptions, registryOptions } from '../options.js';
import { warn } from '../output.js';

interface PlanCommandOptions extends ManifestCommandOptions {
  imageInfo?: string;
  format: 'text' | 'json';
  cache: boolean;
  exitCode: boolean;
  insecureRegistry: string[];
}

export function registerPlanCommand(program: Command): void {
  registryOptions(
    manifestOptions(
      program
        .command('plan')
        .description('Decide, before anything builds, which platforms must build and why (reads the registry, builds nothing).'),
    ),
  )
    .option('-i, --image-info <file>', 'the image-info.json of the previous run (missing file: everything is new)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--no-cache', 'decide to build every platform')
    .option('--exit-code', `exit ${ExitCode.stale} when anything must build (for scheduled stale-image checks)`)
    .action(async (options: PlanCommandOptions) => {
      const registry = createRegistryClient({ insecureRegistries: options.insecureRegistry });
      const { plan } = await planRepository({
        ...manifestLoadOptions(options),
        warn,
        imageInfoFile: options.imageInfo,
        registry,
        noCache: !options.cache,
      });
      process.stdout.write(options.format === 'json' ? renderPlanJson(plan) : renderPlanText(plan));
      if (options.exitCode && plan.platforms.some((p) => p.decision === 'build')) process.exitCode = ExitCode.stale;
    });
}
