/** Options shared by several commands. */
import { CommanderError, Option, type Command } from 'commander';
import { ExitCode } from '../errors.js';

/** Options shared by every command that reads a manifest. */
export function manifestOptions(command: Command): Command {
  return command
    .addOption(new Option('-m, --manifest <file>', 'the ImageBuilder manifest.json').default('manifest.json'))
    .addOption(
      new Option('--var <name=value>', 'override a manifest variable (repeatable)').argParser(collectVar).default({}),
    );
}

function collectVar(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new CommanderError(ExitCode.badInput, 'imagewright.var', `--var expects name=value, got "${value}"`);
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
