import { appendFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { ExitCode } from '../../errors.js';
import { renderPlanGithub, planGithubOutputs, type GithubSummaryOptions } from '../../plan/github.js';
import { planHasWork, renderPlanJson, renderPlanText } from '../../plan/index.js';
import type { Plan } from '../../plan/types.js';
import { createRegistryClient } from '../../registry/index.js';
import { filteredPlan } from '../../plan/index.js';
import { planRepository } from '../../shell/plan.js';
import {
  baseOverrideOptions,
  filterOptions,
  manifestLoadOptions,
  manifestOptions,
  platformFilter,
  registryOptions,
  type FilterCommandOptions,
  type ManifestCommandOptions,
  buildArgOptions,
  type CommandLineBuildArgs,
} from '../options.js';
import { warn, writeOutput } from '../output.js';
import { examples } from '../help.js';

interface PlanCommandOptions extends ManifestCommandOptions, FilterCommandOptions {
  imageInfo?: string;
  format: 'text' | 'json' | 'github';
  reportUrl?: string;
  cache: boolean;
  exitCode: boolean;
  verbose: boolean;
  insecureRegistry: string[];
  buildArg?: CommandLineBuildArgs;
}

export function registerPlanCommand(program: Command): void {
  buildArgOptions(
  filterOptions(registryOptions(
    baseOverrideOptions(manifestOptions(
      program
        .command('plan')
        .description('Decide, before anything builds, which platforms must build and why (reads the registry, builds nothing).'),
    )),
  )))
    .option('-i, --image-info <file>', 'the image-info.json of the previous run (missing file: everything is new)')
    .addOption(
      new Option(
        '--format <format>',
        'output format; github: Markdown, also appended to $GITHUB_STEP_SUMMARY, with stale=, build-count= and publish-count= in $GITHUB_OUTPUT',
      )
        .choices(['text', 'json', 'github'])
        .default('text'),
    )
    .option(
      '--report-url <url>',
      'github format: link the summary to the HTML report (`imagewright report`); default on GitHub Actions: this run\'s page, where it is an artifact',
    )
    .option('--no-cache', 'decide to build every platform')
    .option('--verbose', 'also print on stderr how many registry requests planning made (JSON output always has registryRequests)', false)
    .option('--exit-code', `exit ${ExitCode.stale} when anything must be done: a build, new or moved tags, a shared-tag index to create or move (for scheduled stale-image checks)`)
    .addHelpText(
      'after',
      examples([
          ['imagewright plan --image-info image-info.json', 'a table: build or reuse, and why'],
          ['imagewright plan --image-info image-info.json --format json > plan.json', 'the plan for other tools'],
          ['imagewright plan --image-info image-info.json --exit-code', `a scheduled stale check: exit ${ExitCode.stale} when anything must be done`],
      ]),
    )
    .action(async (options: PlanCommandOptions) => {
      const registry = createRegistryClient({ insecureRegistries: options.insecureRegistry });
      const planned = await planRepository({
        ...manifestLoadOptions(options),
        warn,
        imageInfoFile: options.imageInfo,
        registry,
        noCache: !options.cache,
        commandLineBuildArgs: options.buildArg,
      });
      // Keys and decisions come from the whole manifest; the filters choose what is shown.
      const plan = filteredPlan(planned.plan, platformFilter(options));
      if (options.format === 'github') await writeGithub(plan, { edges: planned.graph.edges, reportUrl: options.reportUrl ?? githubRunUrl() });
      else writeOutput(options.format === 'json' ? renderPlanJson(plan, registry.requestCount) : renderPlanText(plan));
      if (options.verbose) process.stderr.write(`registry requests: ${registry.requestCount}\n`);
      if (options.exitCode && planHasWork(plan)) process.exitCode = ExitCode.stale;
    });
}

/** The summary on stdout, and, inside a GitHub Actions step, in the job summary and the step outputs. */
async function writeGithub(plan: Plan, summaryOptions: GithubSummaryOptions): Promise<void> {
  const summary = renderPlanGithub(plan, summaryOptions);
  writeOutput(summary);
  const { GITHUB_STEP_SUMMARY: summaryFile, GITHUB_OUTPUT: outputFile } = process.env;
  if (summaryFile) await appendFile(summaryFile, summary);
  if (outputFile) await appendFile(outputFile, planGithubOutputs(plan));
}

/** The workflow run's page on GitHub Actions, where its artifacts (the HTML report) are listed. */
function githubRunUrl(): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repository, GITHUB_RUN_ID: run } = process.env;
  return server && repository && run ? `${server}/${repository}/actions/runs/${run}` : undefined;
}
