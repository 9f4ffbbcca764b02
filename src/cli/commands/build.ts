import { InvalidArgumentError, Option, type Command } from 'commander';
import { ExitCode } from '../../errors.js';
import { planOption, type MatrixPlan } from '../../matrix/index.js';
import { createRegistryClient } from '../../registry/index.js';
import { buildRepository, onlyUnbuildableSkipped, PROGRESS_MODES, type ProgressMode } from '../../shell/execute.js';
import type { BuildSecret } from '../../secret.js';
import { PhaseTimings } from '../../timings.js';
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
  secretOptions,
  type CommandLineBuildArgs,
} from '../options.js';
import { errorExitCode, warn } from '../output.js';
import { examples } from '../help.js';

interface BuildCommandOptions extends ManifestCommandOptions, FilterCommandOptions {
  imageInfo?: string;
  push: boolean;
  jobs?: number;
  cache: boolean;
  keepGoing: boolean;
  leg?: string;
  maxLegs?: number;
  plan?: MatrixPlan;
  imageInfoOut?: string;
  logDir: string;
  verbose: boolean;
  progress: ProgressMode;
  insecureRegistry: string[];
  skipPlatformCheck: boolean;
  buildArg?: CommandLineBuildArgs;
  secret: BuildSecret[];
  sourceRepo?: string;
  takeOverTags: boolean;
}

export function registerBuildCommand(program: Command): void {
  secretOptions(buildArgOptions(
  filterOptions(registryOptions(
    baseOverrideOptions(manifestOptions(
      program
        .command('build')
        .description(
          'Plan, then build with BuildKit exactly the platforms whose inputs changed; with --push, publish them ' +
            'and keep image-info true after every platform.',
        ),
    )),
  ))))
    .option(
      '-i, --image-info <file>',
      'the image-info.json to plan from and to update (missing file: everything is new); without it, the previous run is read from the labels of the registry\'s images',
    )
    .option('--push', 'push every tag, record the registry\'s digests, add new tags to reused images, publish shared-tag indexes', false)
    .addOption(new Option('-j, --jobs <n>', 'platforms built at once (default: number of cores)').argParser(positiveInt))
    .option('--no-cache', 'rebuild every platform from nothing (the periodic validation build); image-info is still recorded')
    .option('--keep-going', 'after a failure, go on with the platforms that do not depend on it', false)
    .option('--leg <name>', 'build only this leg of `imagewright matrix` (computed again from the same manifest, filters and --max-legs)')
    .addOption(new Option('--max-legs <n>', 'the --max-legs the matrix was computed with').argParser(positiveInt))
    .addOption(
      new Option('--plan <json>', "with --leg and --image-info-out: the matrix's plan (plan= in its $GITHUB_OUTPUT, plan in its JSON), recorded in the leg file so that merge-image-info finds a missing leg or one of another plan")
        .argParser(planOption),
    )
    .option(
      '--image-info-out <file>',
      'write only this run\'s records here, for merge-image-info (default: update --image-info); --image-info may then be the merged output of earlier waves',
    )
    .option(
      '--skip-platform-check',
      'build even when a base image\'s config names another platform than the one being built (ImageBuilder\'s option of the same name; for mislabelled bases)',
      false,
    )
    .option(
      '--take-over-tags',
      'with --push and --image-info: push even over tags that hold images another run pushed (their labels say so) and the image-info does not record; without it such a build is refused before anything builds',
      false,
    )
    .option('--source-repo <url>', 'repository URL for image-info\'s commitUrl, <url>/blob/<sha>/<Dockerfile> (ImageBuilder\'s option; default: the git remote origin)')
    .option('--verbose', 'also print on stderr how many registry requests the run made, and where its time went (start-up, plan, builds, pushes, image-info writes...)', false)
    .option('--log-dir <dir>', 'where each platform\'s build log goes', '.imagewright/logs')
    .addOption(
      new Option(
        '--progress <mode>',
        'as docker buildx: tty (a live block no taller than the terminal, then a summary), plain (a timestamped line per event; ' +
          'on GitHub Actions each build log in a ::group::), quiet (errors and the summary), auto (tty on a terminal whose TERM is not dumb, else plain)',
      )
        .choices([...PROGRESS_MODES])
        .default('auto'),
    )
    .addHelpText(
      'after',
      examples([
          ['imagewright build --image-info image-info.json', 'build what changed, locally (nothing is pushed)'],
          ['imagewright build --image-info image-info.json --push -j 4', 'build, push, tag and publish indexes; record it all in image-info.json'],
          ['imagewright build --path src/builder --image-info image-info.json', 'only the platforms of one folder'],
          ['imagewright build --image-info image-info.json --progress plain 2> build.log', 'a timestamped line per event, for a log file'],
      ]),
    )
    .action(async (options: BuildCommandOptions) => {
      // From the process's start to here: Node, the bundled CLI's load, the argument parsing.
      const timings = new PhaseTimings();
      timings.add('start-up', performance.now());
      const registry = createRegistryClient({ insecureRegistries: options.insecureRegistry });
      const { result } = await buildRepository({
        ...manifestLoadOptions(options),
        warn,
        imageInfoFile: options.imageInfo,
        registry,
        push: options.push,
        noCache: !options.cache,
        keepGoing: options.keepGoing,
        jobs: options.jobs,
        filter: platformFilter(options),
        leg: options.leg,
        maxLegs: options.maxLegs,
        legPlan: options.plan,
        imageInfoOut: options.imageInfoOut,
        commandLineBuildArgs: options.buildArg,
        secrets: options.secret,
        logDir: options.logDir,
        skipPlatformCheck: options.skipPlatformCheck,
        sourceRepo: options.sourceRepo,
        takeOverTags: options.takeOverTags,
        progressStream: process.stderr,
        progress: options.progress,
        timings,
      });
      if (options.verbose) {
        process.stderr.write(`registry requests: ${registry.requestCount}\n`);
        timings.add('total', performance.now());
        process.stderr.write(`timings: ${timings.format()}\n`);
      }
      if (!result.ok && onlyUnbuildableSkipped(result)) {
        // Everything this engine can build succeeded; the rest (Windows on Linux...) is another run's.
        process.exitCode = ExitCode.skipped;
      } else if (!result.ok) {
        // A push or index refused, failed or unreachable is a registry problem, not a broken Dockerfile.
        const first = result.failures[0]?.error ?? result.indexes.find((index) => index.problem)?.error;
        process.exitCode = first !== undefined && errorExitCode(first) === ExitCode.registry ? ExitCode.registry : ExitCode.failure;
      }
    });
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expects a whole number of at least 1, got "${value}"`);
  return n;
}
