/** Options shared by several commands. */
import { CommanderError, Option, type Command } from 'commander';
import { ExitCode } from '../errors.js';
import type { PlatformFilter } from '../manifest/index.js';

/** Options shared by every command that reads a manifest. */
export function manifestOptions(command: Command): Command {
  return command
    .addOption(new Option('-m, --manifest <file>', 'the ImageBuilder manifest.json').default('manifest.json'))
    .addOption(
      new Option('--var <name=value>', 'override a manifest variable (repeatable)').argParser(collectVar).default({}),
    )
    .option('--registry-override <host>', "push to and read the manifest's images from this registry instead of its own (ImageBuilder's option)")
    .option('--repo-prefix <prefix>', 'push to and read the manifest\'s repos under this prefix, e.g. staging/ (ImageBuilder\'s option)');
}

function collectVar(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) {
    // The same `<option>: <problem>` shape as the InputErrors other options give.
    throw new CommanderError(ExitCode.badInput, 'imagewright.var', `--var: ${JSON.stringify(value)} must be name=value, like --var BaseRegistry=127.0.0.1:5000`);
  }
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}


/** ImageBuilder's base image override, for the commands that resolve and build external images. */
export function baseOverrideOptions(command: Command): Command {
  return command
    .option('--base-override-regex <regex>', 'read external images whose reference this matches from elsewhere, e.g. a mirror (with --base-override-sub)')
    .option('--base-override-sub <sub>', 'what a match of --base-override-regex becomes ($1 and ${name} as in ImageBuilder)');
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
  /** Only on commands with `baseOverrideOptions`. */
  baseOverrideRegex?: string;
  baseOverrideSub?: string;
}

export function manifestLoadOptions(options: ManifestCommandOptions): {
  manifestFile: string;
  vars: Record<string, string>;
  registryOverride?: string;
  repoPrefix?: string;
  baseOverrideRegex?: string;
  baseOverrideSub?: string;
} {
  return {
    manifestFile: options.manifest,
    vars: options.var,
    registryOverride: options.registryOverride,
    repoPrefix: options.repoPrefix,
    baseOverrideRegex: options.baseOverrideRegex,
    baseOverrideSub: options.baseOverrideSub,
  };
}

const repeatable = (value: string, previous: string[]): string[] => [...previous, value];

/**
 * ImageBuilder's platform filters, repeatable, `*` and `?` wildcards. Unlike ImageBuilder, no filter
 * means every platform (not the host's OS type and architecture).
 */
export function filterOptions(command: Command): Command {
  const what = 'platforms';
  return command
    .addOption(new Option('--os-type <glob>', `only ${what} of this OS type: linux, windows (repeatable; ImageBuilder's --os-type)`).argParser(repeatable).default([]))
    .addOption(
      new Option('--architecture <glob>', `only ${what} of this architecture: amd64, arm64, arm, arm/v7, arm32v7 (repeatable; ImageBuilder's --architecture)`)
        .argParser(repeatable)
        .default([]),
    )
    .addOption(
      new Option('--os-version <glob>', `only ${what} whose manifest osVersion matches, e.g. noble, *ltsc2022 (repeatable; ImageBuilder's --os-version)`)
        .argParser(repeatable)
        .default([]),
    )
    .addOption(new Option('--path <glob>', `only ${what} whose Dockerfile path or folder matches (repeatable; ImageBuilder's --path)`).argParser(repeatable).default([]));
}

export interface FilterCommandOptions {
  osType: string[];
  architecture: string[];
  osVersion: string[];
  path: string[];
}

export function platformFilter(options: FilterCommandOptions): PlatformFilter {
  return { osTypes: options.osType, architectures: options.architecture, osVersions: options.osVersion, paths: options.path };
}
