/** Options shared by several commands. */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { CommanderError, InvalidArgumentError, Option, type Command } from 'commander';
import { ExitCode } from '../errors.js';
import type { PlatformFilter } from '../plan/index.js';
import { escapeControl, FORBIDDEN_CONTROL } from '../paths.js';
import { SecretValue, type BuildSecret } from '../secret.js';

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
    throw optionError(`--var: ${JSON.stringify(value)} must be name=value, like --var BaseRegistry=127.0.0.1:5000`);
  }
  // Variables become names, tags, paths and build args: no control character may enter through them.
  if (FORBIDDEN_CONTROL.test(value)) throw optionError(`--var ${value.slice(0, eq)}: the value contains a control character`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}


/** ImageBuilder's base image override, for the commands that resolve and build external images. */
export function baseOverrideOptions(command: Command): Command {
  return command
    .option('--base-override-regex <regex>', 'read external images whose reference this matches from elsewhere, e.g. a mirror (with --base-override-sub)')
    .option('--base-override-sub <sub>', 'what a match of --base-override-regex becomes ($1 and ${name} as in ImageBuilder)');
}

/** What `--build-arg` collects: name → value, the value never shown. */
export type CommandLineBuildArgs = ReadonlyMap<string, SecretValue>;

/** Linux refuses a single argument longer than this (MAX_ARG_STRLEN); docker build would fail with E2BIG. */
export const BUILD_ARG_MAX_BYTES = 128 * 1024 - 1;
/** A build arg's name, as a shell variable's (it may also come from the environment). */
const BUILD_ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `--build-arg` for the commands that compute build keys (plan, build). */
export function buildArgOptions(command: Command): Command {
  return command.addOption(
    new Option(
      '--build-arg <name[=value]>',
      'a build arg for every Dockerfile that declares it with ARG (the manifest\'s buildArgs win); NAME alone takes the ' +
        'value from the environment. The value enters the build key and is never shown; secrets belong in --secret (repeatable)',
    ).argParser(collectBuildArg),
  );
}

function optionError(message: string): CommanderError {
  // The same `<option>: <problem>` shape as the InputErrors other options give.
  return new CommanderError(ExitCode.badInput, 'imagewright.option', escapeControl(message));
}

function collectBuildArg(text: string, previous: CommandLineBuildArgs | undefined): CommandLineBuildArgs {
  const eq = text.indexOf('=');
  const name = eq < 0 ? text : text.slice(0, eq);
  // Never the value: only the name, and only when it is a name.
  if (!BUILD_ARG_NAME.test(name)) {
    const shown = eq < 0 || name.length > 100 ? 'an argument' : JSON.stringify(name);
    throw optionError(`--build-arg: ${shown} is not NAME=VALUE or NAME with a name of letters, digits and _, like --build-arg VERSION=1.2`);
  }
  const value = eq < 0 ? process.env[name] : text.slice(eq + 1);
  const args = new Map(previous ?? []);
  // `NAME` alone with NAME unset in the environment: no build arg, as with docker build.
  if (value === undefined) return args;
  if (value.includes('\0')) throw optionError(`--build-arg ${name}: the value contains a NUL byte, which no command line can carry`);
  if (Buffer.byteLength(value) + name.length + 1 > BUILD_ARG_MAX_BYTES) {
    throw optionError(`--build-arg ${name}: the value is longer than ${BUILD_ARG_MAX_BYTES} bytes, the most one command-line argument can hold`);
  }
  args.set(name, new SecretValue(value));
  return args;
}

/** `--secret` for build: passed to BuildKit, never part of a build key. */
export function secretOptions(command: Command): Command {
  return command.addOption(
    new Option(
      '--secret <id=ID,src=FILE|env=VAR>',
      'a secret for RUN --mount=type=secret,id=ID, from a file or an environment variable, as docker build --secret; ' +
        'never part of a build key, never in the image (repeatable)',
    )
      .argParser(collectSecret)
      .default([]),
  );
}

/** BuildKit's own limit on a secret's size (500 KB); a larger one fails the build. */
export const SECRET_MAX_BYTES = 500 * 1024;

/** Docker's `--secret` fields; `source` is a synonym of `src`. */
const SECRET_FIELDS: ReadonlySet<string> = new Set(['id', 'src', 'source', 'env', 'type']);

function collectSecret(text: string, previous: BuildSecret[]): BuildSecret[] {
  const fields = new Map<string, string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    if (eq < 0 || !SECRET_FIELDS.has(key) || fields.has(key)) {
      throw optionError(`--secret: expected id=ID,src=FILE or id=ID,env=VAR, got ${JSON.stringify(text.slice(0, 200))}`);
    }
    fields.set(key === 'source' ? 'src' : key, part.slice(eq + 1));
  }
  const id = fields.get('id');
  if (!id || !/^[A-Za-z0-9_.-]+$/.test(id)) throw optionError(`--secret: id= must name the secret with letters, digits, . _ -, got ${JSON.stringify(text.slice(0, 200))}`);
  if (previous.some((secret) => secret.spec.startsWith(`id=${id},`))) throw optionError(`--secret id=${id}: given twice`);
  const src = fields.get('src');
  const env = fields.get('env');
  if ((src === undefined) === (env === undefined)) throw optionError(`--secret id=${id}: needs exactly one of src=FILE and env=VAR`);
  if (env !== undefined) {
    if (!BUILD_ARG_NAME.test(env)) throw optionError(`--secret id=${id}: env=${JSON.stringify(env.slice(0, 200))} is not a variable name`);
    const value = process.env[env];
    if (value === undefined) throw optionError(`--secret id=${id}: environment variable ${env} is not set`);
    return [...previous, { spec: `id=${id},env=${env}`, value: new SecretValue(value) }];
  }
  const file = path.resolve(src as string);
  const stat = statSync(file, { throwIfNoEntry: false });
  // A FIFO or a device would be read without end; a folder is not a secret.
  if (!stat?.isFile()) throw optionError(`--secret id=${id}: src ${JSON.stringify(src)} is ${stat ? 'not a regular file' : 'not found'}`);
  if (stat.size > SECRET_MAX_BYTES) throw optionError(`--secret id=${id}: src ${JSON.stringify(src)} is larger than ${SECRET_MAX_BYTES} bytes`);
  // Read to mask it in the build's output; BuildKit reads the file itself.
  return [...previous, { spec: `id=${id},src=${file}`, value: new SecretValue(readFileSync(file, 'utf8')) }];
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

/** An option parser for whole numbers of at least `min`. */
export function wholeNumber(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expects a whole number of at least ${min}, got "${value}"`);
    return n;
  };
}
