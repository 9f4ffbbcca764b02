/** Options shared by several commands. */
import { CommanderError, Option, type Command } from 'commander';
import { ExitCode } from '../errors.js';

/** Options shared by every command that reads a manifest. */
export function manifestOptions(command: Command): Command {
  return command
    .addOption(new Option('-m, --manifest <file>', 'the ImageBuilder manifest.json').default('manifest.json'))
    .addOption(
      new Option('--var <name=value>', 'override a manifest variable (repeatable)').argParser(collectVar).default({}),
    )
    .option('--registry-override <host>', "use this registry instead of the manifest's (ImageBuilder's option of the same name)")
    .option('--repo-prefix <prefix>', 'prepend this to every repo name, e.g. staging/ (ImageBuilder\'s option of the same name)');
}

function collectVar(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) {
    // The same `<option>: <problem>` shape as the InputErrors other options give.
    throw new CommanderError(ExitCode.badInput, 'imagewright.var', `--var: ${JSON.stringify(value)} must be name=value, like --var BaseRegistry=127.0.0.1:5000`);
  }
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}


/** Options for commands that talk to registries. */
export function registryOptions(command: Command): Command {
  return command.addOption(
    new Option('--insecure-registry <host>', 'use plain HTTP for this registry (loopback registries always do; repeatable)')
      .argParser((value: string, previous: string[]) => [...previous, value])
      .default([]),
  );
}

/** The manifest-related options as the shell takes them. */
export interface ManifestCommandOptions {
  manifest: string;
  var: Record<string, string>;
  registryOverride?: string;
  repoPrefix?: string;
}

export function manifestLoadOptions(options: ManifestCommandOptions): {
  manifestFile: string;
  vars: Record<string, string>;
  registryOverride?: string;
  repoPrefix?: string;
} {
  return {
    manifestFile: options.manifest,
    vars: options.var,
    registryOverride: options.registryOverride,
    repoPrefix: options.repoPrefix,
  };
}
