/**
 * The matrix in the forms CI systems read: a GitHub Actions `strategy.matrix` include list (with
 * each leg's pool and runner label), Azure Pipelines matrix variables (one matrix per pool, as
 * ImageBuilder's `imageBuilderPaths`, `osType`, `architecture`, `osVersions`), and JSON.
 */
import type { Leg, Matrix } from './types.js';

/**
 * GitHub Actions runner labels per pool (ImageBuilder's matrix names), as docs/pools.md lists them.
 * Architectures without hosted runners (riscv64, s390x, ppc64le) build on amd64 under emulation.
 */
export const DEFAULT_RUNS_ON: Readonly<Record<string, string>> = {
  linuxAmd64: 'ubuntu-latest',
  linuxArm64: 'ubuntu-24.04-arm',
  linuxArm32: 'ubuntu-24.04-arm',
  windows1809Amd64: 'windows-2019',
  windowsLtsc2022Amd64: 'windows-2022',
  windowsLtsc2025Amd64: 'windows-2025',
};

/** The runner label for a pool: an override, else the default, else the OS's general label. */
export function runsOnLabel(pool: string, osType: string, overrides: Readonly<Record<string, string>> = {}): string {
  return overrides[pool] ?? DEFAULT_RUNS_ON[pool] ?? (osType === 'windows' ? 'windows-latest' : 'ubuntu-latest');
}

/** One leg as a matrix entry: the fields workflows use. */
export interface MatrixEntry {
  leg: string;
  wave: number;
  /** `linux` / `windows` (the same as osType, under the name GitHub workflows use). */
  os: string;
  osType: string;
  /** The Windows release the host must run (`ltsc2022`); '' for Linux. */
  osVersion: string;
  /** The manifest osVersions the leg builds. */
  osVersions: string[];
  architecture: string;
  variant?: string;
  /** The machine pool, named as ImageBuilder names matrices (`linuxArm64`). */
  pool: string;
  /** The runner label for the pool (docs/pools.md; --runs-on overrides). */
  runsOn: string;
  /** Number of platforms the leg builds. */
  platforms: number;
  paths: string[];
  /** `--path a --path b`, ready to append to a command line. */
  pathArgs: string;
  dependsOn: string[];
}

export function matrixEntry(leg: Leg, runsOn: Readonly<Record<string, string>> = {}): MatrixEntry {
  const entry: MatrixEntry = {
    leg: leg.name,
    wave: leg.wave,
    os: leg.osType,
    osType: leg.osType,
    osVersion: leg.osVersion,
    osVersions: leg.osVersions,
    architecture: leg.architecture,
    pool: leg.pool,
    runsOn: runsOnLabel(leg.pool, leg.osType, runsOn),
    platforms: leg.platformIds.length,
    paths: leg.paths,
    pathArgs: pathArgs(leg.paths),
    dependsOn: leg.dependsOn,
  };
  if (leg.variant) entry.variant = leg.variant;
  return entry;
}

export function pathArgs(paths: readonly string[]): string {
  return paths.map((p) => `--path ${shellQuote(p)}`).join(' ');
}

function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:@+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `{"waves":N,"publish":bool,"plan":{…},"legs":[…]}`, indented. */
export function renderMatrixJson(matrix: Matrix, runsOn: Readonly<Record<string, string>> = {}): string {
  const legs = matrix.legs.map((leg) => matrixEntry(leg, runsOn));
  return `${JSON.stringify({ waves: matrix.waves, publish: publishes(matrix), ...(matrix.plan && { plan: matrix.plan }), legs }, null, 2)}\n`;
}

function publishes(matrix: Matrix): boolean {
  return matrix.publish ?? matrix.legs.length > 0;
}

/** The legs of one wave, or all of them, as `{"include":[…]}` on one line. */
export function githubMatrix(matrix: Matrix, wave?: number, runsOn: Readonly<Record<string, string>> = {}): string {
  const legs = wave === undefined ? matrix.legs : matrix.legs.filter((leg) => leg.wave === wave);
  return JSON.stringify({ include: legs.map((leg) => matrixEntry(leg, runsOn)) });
}

/**
 * Lines for `$GITHUB_OUTPUT`: `matrix`, `waves`, `legs` (the number of legs in `matrix`), `publish`
 * (whether the publish step has work, shared-tag indexes included) and `plan` (every wave's legs,
 * for build --plan and merge-image-info --plan).
 */
export function githubOutputLines(matrix: Matrix, wave?: number, runsOn: Readonly<Record<string, string>> = {}): string {
  const include = githubMatrix(matrix, wave, runsOn);
  const legs = wave === undefined ? matrix.legs.length : matrix.legs.filter((leg) => leg.wave === wave).length;
  const plan = matrix.plan ? `plan=${JSON.stringify(matrix.plan)}\n` : '';
  return `matrix=${include}\nwaves=${matrix.waves}\nlegs=${legs}\npublish=${publishes(matrix)}\n${plan}`;
}

/**
 * `##vso[task.setvariable …;isOutput=true]` lines. As ImageBuilder's generateBuildMatrix: one matrix
 * per machine pool (OS type, Windows release, architecture), named as ImageBuilder names them
 * (`linuxAmd64`, `linuxArm64`, `windowsLtsc2022Amd64`), each leg with `imageBuilderPaths` and
 * `osVersions` (`--os-version …` per manifest osVersion); with several waves also `<pool>Wave0`,
 * `<pool>Wave1`… Then, for pipelines that run every leg in one job list, `matrix` with every leg
 * and `matrixWave0`…, and `waves`, `publish`, `pools` (the pool names, space separated). Azure
 * matrix values are strings.
 */
export function renderAzureMatrix(matrix: Matrix): string {
  const object = (legs: readonly Leg[]): string =>
    JSON.stringify(
      Object.fromEntries(
        legs.map((leg) => [
          leg.name,
          {
            leg: leg.name,
            legName: leg.name,
            wave: String(leg.wave),
            imageBuilderPaths: pathArgs(leg.paths),
            pathArgs: pathArgs(leg.paths),
            osType: leg.osType,
            osVersion: leg.osVersion,
            osVersions: leg.osVersions.map((v) => `--os-version ${shellQuote(v)}`).join(' '),
            architecture: leg.architecture,
            ...(leg.variant ? { variant: leg.variant } : {}),
            pool: leg.pool,
            platforms: String(leg.platformIds.length),
          },
        ]),
      ),
    );
  const pools = [...new Set(matrix.legs.map((leg) => leg.pool))].sort();
  const lines: string[] = [];
  for (const pool of pools) {
    const legs = matrix.legs.filter((leg) => leg.pool === pool);
    lines.push(setVariable(pool, object(legs)));
    if (matrix.waves < 2) continue;
    for (let wave = 0; wave < matrix.waves; wave++) {
      const inWave = legs.filter((leg) => leg.wave === wave);
      if (inWave.length > 0) lines.push(setVariable(`${pool}Wave${wave}`, object(inWave)));
    }
  }
  lines.push(setVariable('matrix', object(matrix.legs)));
  for (let wave = 0; wave < matrix.waves; wave++) {
    lines.push(setVariable(`matrixWave${wave}`, object(matrix.legs.filter((leg) => leg.wave === wave))));
  }
  lines.push(setVariable('waves', String(matrix.waves)));
  lines.push(setVariable('publish', String(publishes(matrix))));
  lines.push(setVariable('pools', pools.join(' ')));
  if (matrix.plan) lines.push(setVariable('plan', JSON.stringify(matrix.plan)));
  return `${lines.join('\n')}\n`;
}

function setVariable(name: string, value: string): string {
  return `##vso[task.setvariable variable=${name};isOutput=true]${value}`;
}
