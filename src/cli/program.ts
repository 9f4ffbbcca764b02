/**
 * imagewright's command line. Commands are thin: they parse options, call the shell (src/shell)
 * and print. Errors a user can act on become one line on stderr and a documented exit code.
 */
import { Command, CommanderError } from 'commander';
import { ExitCode } from '../errors.js';
import { messageLine } from '../paths.js';
import { registerBuildCommand } from './commands/build.js';
import { registerGraphCommand } from './commands/graph.js';
import { registerMatrixCommand } from './commands/matrix.js';
import { registerMergeImageInfoCommand } from './commands/merge-image-info.js';
import { registerPlanCommand } from './commands/plan.js';
import { registerPublishManifestCommand } from './commands/publish-manifest.js';
import { registerReportCommand } from './commands/report.js';
import { VERSION } from '../version.js';
import { examples, optionDescription } from './help.js';
import { errorExitCode, formatError } from './output.js';

export function createProgram(): Command {
  const program = new Command()
    .name('imagewright')
    .description(
      'Build and publish a repository\'s container images, rebuilding exactly the images whose inputs changed.\n' +
        'Reads ImageBuilder manifest.json and image-info.json files.',
    )
    .version(VERSION)
    .configureHelp({ optionDescription })
    // Usage errors follow the one-line rule too: `imagewright: error: <problem> (see --help)`.
    .configureOutput({
      outputError: (str, write) => write(`imagewright: error: ${messageLine(str.replace(/^error: /, '').trim())} (see --help)\n`),
    })
    .exitOverride();
  registerGraphCommand(program);
  registerPlanCommand(program);
  registerBuildCommand(program);
  registerMatrixCommand(program);
  registerReportCommand(program);
  registerMergeImageInfoCommand(program);
  registerPublishManifestCommand(program);
  program.addHelpText(
    'after',
    `
Exit codes:
  0   success
  1   a build failed
  2   bad input (manifest, Dockerfile, image-info, options): the message names the file and location
  3   registry error (authentication failure, a push or index refused or failed, unreachable
      registry, TLS failure, an answer that is not a manifest), or the engine cannot
      run a platform's RUN steps (no emulation for that architecture)
  4   build: platforms the engine cannot build (Windows on a Linux engine) were skipped;
      everything else succeeded
  10  plan --exit-code: something must build`,
  );
  program.addHelpText('after', examples([
    ['imagewright plan --image-info image-info.json', 'what must build, and why'],
    ['imagewright build --image-info image-info.json --push', 'build exactly that, push it and record it'],
    ['imagewright <command> --help', 'the options and examples of one command'],
  ]));
  return program;
}

export async function run(argv: string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return ExitCode.ok;
      if (err.code === 'imagewright.option') process.stderr.write(`imagewright: error: ${err.message}\n`);
      return ExitCode.badInput;
    }
    process.stderr.write(`imagewright: error: ${formatError(err)}\n`);
    return errorExitCode(err);
  }
}

