/**
 * The matrix in the forms CI systems read: a GitHub Actions `strategy.matrix` include list, Azure
 * Pipelines matrix variables (ImageBuilder's `imageBuilderPaths`, `osType`, `architecture`), and JSON.
 */
import type { Leg, Matrix } from './types.js';

/** One leg as a matrix entry: the fields workflows use. */
export interface MatrixEntry {
  leg: string;
  wave: number;
  osType: string;
  architecture: string;
  variant?: string;
  /** Number of platforms the leg builds. */
  platforms: number;
  paths: string[];
  /** `--path a --path b`, ready to append to a command line. */
  pathArgs: string;
  dependsOn: string[];
}

export function matrixEntry(leg: Leg): MatrixEntry {
  const entry: MatrixEntry = {
    leg: leg.name,
    wave: leg.wave,
    osType: leg.osType,
    architecture: leg.architecture,
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

/** `{"waves":N,"publish":bool,"legs":[…]}`, indented. */
export function renderMatrixJson(matrix: Matrix): string {
  return `${JSON.stringify({ waves: matrix.waves, publish: publishes(matrix), legs: matrix.legs.map(matrixEntry) }, null, 2)}\n`;
}

function publishes(matrix: Matrix): boolean {
  return matrix.publish ?? matrix.legs.length > 0;
}

/** The legs of one wave, or all of them, as `{"include":[…]}` on one line. */
export function githubMatrix(matrix: Matrix, wave?: number): string {
  const legs = wave === undefined ? matrix.legs : matrix.legs.filter((leg) => leg.wave === wave);
  return JSON.stringify({ include: legs.map(matrixEntry) });
}

/**
 * Lines for `$GITHUB_OUTPUT`: `matrix`, `waves`, `legs` (the number of legs in `matrix`) and `publish`
 * (whether the publish step has work, shared-tag indexes included).
 */
export function githubOutputLines(matrix: Matrix, wave?: number): string {
  const include = githubMatrix(matrix, wave);
  const legs = wave === undefined ? matrix.legs.length : matrix.legs.filter((leg) => leg.wave === wave).length;
  return `matrix=${include}\nwaves=${matrix.waves}\nlegs=${legs}\npublish=${publishes(matrix)}\n`;
}

/**
 * `##vso[task.setvariable …;isOutput=true]` lines: `matrix` with every leg, then `matrixWave0`,
 * `matrixWave1`… with each wave's legs, and `waves`. Azure matrix values are strings.
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
            architecture: leg.architecture,
            ...(leg.variant ? { variant: leg.variant } : {}),
            platforms: String(leg.platformIds.length),
          },
        ]),
      ),
    );
  const lines = [setVariable('matrix', object(matrix.legs))];
  for (let wave = 0; wave < matrix.waves; wave++) {
    lines.push(setVariable(`matrixWave${wave}`, object(matrix.legs.filter((leg) => leg.wave === wave))));
  }
  lines.push(setVariable('waves', String(matrix.waves)));
  lines.push(setVariable('publish', String(publishes(matrix))));
  return `${lines.join('\n')}\n`;
}

function setVariable(name: string, value: string): string {
  return `##vso[task.setvariable variable=${name};isOutput=true]${value}`;
}
