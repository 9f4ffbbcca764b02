import { appendFile, readFile } from 'node:fs/promises';
import { sha256Digest } from '../../digest.js';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { computeLegs, githubMatrix, githubOutputLines, legInput, matrixPlan, renderAzureMatrix, renderMatrixJson, type Matrix, type PlanMaterial } from '../../matrix/index.js';
import { createRegistryClient } from '../../registry/index.js';
import { planCounts, platformHasWork } from '../../plan/index.js';
import { filteredGraph, filteredPlan } from '../../plan/index.js';
import { loadRepository, planRepository } from '../../shell/plan.js';
import { wholeNumber, type FilterCommandOptions, filterOptions, type ManifestCommandOptions, manifestLoadOptions, manifestOptions, platformFilter, registryOptions, buildArgOptions, type CommandLineBuildArgs } from '../options.js';
import { warn, writeOutput } from '../output.js';
import { examples } from '../help.js';

interface MatrixCommandOptions extends ManifestCommandOptions, FilterCommandOptions {
  runsOn: Record<string, string>;
  imageInfo?: string;
  format: 'github' | 'azure' | 'json';
  maxLegs?: number;
  onlyChanged?: boolean;
  wave?: number;
  insecureRegistry: string[];
  /** Read with --only-changed: the keys must be the build's. */
  buildArg?: CommandLineBuildArgs;
}

export function registerMatrixCommand(program: Command): void {
  buildArgOptions(
  filterOptions(registryOptions(
    manifestOptions(
      program
        .command('matrix')
        .description('Split the platforms into legs, one CI job each, ordered into waves (offline unless --only-changed).'),
    ),
  )))
    .option('-i, --image-info <file>', 'the image-info.json of the previous run (read with --only-changed)')
    .addOption(new Option('--format <format>', 'output format').choices(['github', 'azure', 'json']).default('json'))
    .addOption(new Option('--max-legs <n>', 'at most this many legs in each wave; the legs of a crowded wave are packed together').argParser(wholeNumber(1)))
    .option('--only-changed', 'leave out platforms with nothing to build (plans: reads the registry); legs keep their names')
    .addOption(new Option('--wave <n>', 'only the legs of this wave (github and json formats)').argParser(wholeNumber(0)))
    .addOption(
      new Option('--runs-on <pool=label>', 'the runner label for a pool, e.g. linuxArm64=my-arm-runners (repeatable; defaults in docs/pools.md)')
        .argParser(collectRunsOn)
        .default({}),
    )
    .addHelpText(
      'after',
      `
Legs (as ImageBuilder's platformDependencyGraph matrix):
  - platforms are grouped by os/architecture/variant (Windows also by OS version); a leg never mixes
    OS types, Windows releases or architectures, because each runs on its own machine pool;
  - within a group, platforms connected by internal FROM/COPY/mount reads form one leg, and so do
    platforms sharing a Dockerfile;
  - a read across groups puts the reading leg in a later wave: a leg never needs an image that another
    leg of its own wave, or of a later wave, builds. Run the waves in order, each with the merged image-info of the
    earlier ones as --image-info;
  - --max-legs N: a wave with more than N legs has them packed, largest first, into the least
    loaded leg of the same group (named after the largest, with -plus-<count>); N legs are shared
    out by the groups' sizes, each group keeping at least one;
  - --os-type, --architecture, --os-version, --path: legs of the selected platforms only (reads
    from the others are images in the registry); build --leg takes the same filters.
  - --only-changed hides platforms and legs with nothing to build and renumbers the waves; names
    and membership stay as without it, so \`build --leg\` finds the same leg.
Leg names: <os>-<arch>-<Dockerfile folder>, with -graph when the leg holds several Dockerfiles.
Pools, as ImageBuilder names its matrices: linuxAmd64, linuxArm64, linuxArm32, windowsLtsc2022Amd64...
Build one leg with: imagewright build --leg <name> [--max-legs N] --image-info <file> --image-info-out <leg file>

github: prints {"include":[…]} for strategy.matrix, each leg with os, osVersion, architecture, pool
and runsOn (the pool's runner label: docs/pools.md, --runs-on to change); with $GITHUB_OUTPUT set,
appends matrix=…, waves=…, legs=… and publish=true|false to it (publish: the publish step has work,
shared-tag indexes to create or move included, even when no leg builds). azure: one output variable
per pool (linuxAmd64, …; <pool>Wave<N> with several waves), each leg with imageBuilderPaths and
osVersions as ImageBuilder sets them; also matrix, matrixWave0…, waves, publish and pools.`,
    )
    .addHelpText(
      'after',
      examples([
          ['imagewright matrix --max-legs 20', 'the legs and waves as JSON'],
          ['imagewright matrix --image-info image-info.json --only-changed --format github --wave 0', 'wave 0 of what must build, for strategy.matrix'],
      ]),
    )
    .action(async (options: MatrixCommandOptions) => {
      const matrix = await computeMatrix(options);
      if (options.format === 'azure') {
        writeOutput(renderAzureMatrix(matrix));
        return;
      }
      const shown = options.wave === undefined ? matrix : { ...matrix, legs: matrix.legs.filter((leg) => leg.wave === options.wave) };
      if (options.format === 'json') {
        writeOutput(renderMatrixJson(shown, options.runsOn));
        return;
      }
      writeOutput(`${githubMatrix(matrix, options.wave, options.runsOn)}\n`);
      const output = process.env.GITHUB_OUTPUT;
      if (output) await appendFile(output, githubOutputLines(matrix, options.wave, options.runsOn));
    });
}

async function computeMatrix(options: MatrixCommandOptions): Promise<Matrix> {
  const matrix = await computeLegsOf(options);
  return { ...matrix, plan: matrixPlan(matrix, await planMaterial(options, matrix)) };
}

/** What identifies the plan besides its legs (see matrixPlan). */
async function planMaterial(options: MatrixCommandOptions, matrix: Matrix & { buildKeys?: Record<string, string> }): Promise<PlanMaterial> {
  const digestOf = async (file: string | undefined) => (file === undefined ? undefined : await readFile(file).then(sha256Digest, () => undefined));
  const load = manifestLoadOptions(options);
  const material: PlanMaterial = {
    manifest: (await digestOf(options.manifest)) ?? '',
    settings: { vars: load.vars, registryOverride: load.registryOverride, repoPrefix: load.repoPrefix, filter: platformFilter(options), maxLegs: options.maxLegs },
  };
  const imageInfo = await digestOf(options.imageInfo);
  if (imageInfo) material.imageInfo = imageInfo;
  if (matrix.buildKeys) material.buildKeys = matrix.buildKeys;
  return material;
}

async function computeLegsOf(options: MatrixCommandOptions): Promise<Matrix & { buildKeys?: Record<string, string> }> {
  const legOptions = options.maxLegs === undefined ? {} : { maxLegs: options.maxLegs };
  const filter = platformFilter(options);
  if (!options.onlyChanged) {
    const { graph } = await loadRepository({ ...manifestLoadOptions(options), warn, skipContexts: true });
    return computeLegs(legInput(filteredGraph(graph, filter)), legOptions);
  }
  const registry = createRegistryClient({ insecureRegistries: options.insecureRegistry });
  const planned = await planRepository({ ...manifestLoadOptions(options), warn, imageInfoFile: options.imageInfo, registry, commandLineBuildArgs: options.buildArg });
  const graph = filteredGraph(planned.graph, filter);
  const plan = filteredPlan(planned.plan, filter);
  // New or moved tags on a reused image are work too: some leg must put them on (or record what an earlier attempt pushed).
  const work = new Set(plan.platforms.filter(platformHasWork).map((p) => p.id));
  const matrix = computeLegs(legInput(graph), { ...legOptions, work });
  const buildKeys = Object.fromEntries(plan.platforms.filter((p) => work.has(p.id)).map((p) => [p.id, p.buildKey]));
  // Shared-tag indexes to create or move are the publish step's work even when no leg builds.
  return { ...matrix, publish: matrix.legs.length > 0 || planCounts(plan).publish > 0, buildKeys };
}

function collectRunsOn(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0 || eq === value.length - 1) throw new InvalidArgumentError(`expects pool=label, like linuxArm64=ubuntu-24.04-arm, got "${value}"`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}
