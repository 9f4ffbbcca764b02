/**
 * The CI scale-out is all-or-nothing: `matrix` names its plan (an id and the legs), each leg's file
 * carries it, and merging checks that every planned leg has exactly one file, all of the same plan.
 * Pure; the shell reads the files.
 */
import { composedDigest } from '../digest.js';
import { InputError, OptionError } from '../errors.js';
import type { LegStamp, Matrix, MatrixPlan } from './types.js';

/** What besides the legs identifies a plan: digests of the files it was computed from, and the planned build keys. */
export interface PlanMaterial {
  /** sha256 of the manifest file's text. */
  manifest: string;
  /** sha256 of the image-info file the plan started from, when there was one. */
  imageInfo?: string;
  /** Build keys of the platforms with work, by platform id (--only-changed). */
  buildKeys?: Record<string, string>;
  /** The options that change what is built or where it goes (variables, registry, prefix, filters). */
  settings?: Record<string, unknown>;
}

/** The plan of `matrix`: every leg of every wave, and an id over them and `material`. */
export function matrixPlan(matrix: Pick<Matrix, 'legs'>, material: PlanMaterial): MatrixPlan {
  const legs = matrix.legs.map((leg) => ({ name: leg.name, wave: leg.wave }));
  const covered = { legs: matrix.legs.map((leg) => ({ name: leg.name, wave: leg.wave, platforms: leg.platformIds })), ...material };
  return { id: composedDigest('matrix-plan', 1, covered).slice('sha256:'.length, 'sha256:'.length + 20), legs };
}

/** A plan as `matrix` prints it (`plan` in its JSON, `plan=` in $GITHUB_OUTPUT); `fail` words the problem. */
export function parseMatrixPlan(value: unknown, fail: (problem: string) => Error): MatrixPlan {
  const o = value as Partial<MatrixPlan> | null;
  if (typeof o !== 'object' || o === null || typeof o.id !== 'string' || !/^[0-9a-f]{8,64}$/.test(o.id) || !Array.isArray(o.legs)) {
    throw fail('expected the plan `matrix` prints: {"id": "<hex>", "legs": [{"name": ..., "wave": ...}, ...]}');
  }
  const legs = o.legs.map((leg: unknown, i) => {
    const l = leg as { name?: unknown; wave?: unknown } | null;
    if (typeof l?.name !== 'string' || typeof l.wave !== 'number' || !Number.isInteger(l.wave) || l.wave < 0) {
      throw fail(`legs[${i}] is not {"name": <string>, "wave": <whole number>}`);
    }
    return { name: l.name, wave: l.wave };
  });
  return { id: o.id, legs };
}

/** A leg file's stamp (its top-level `imagewrightLeg`), undefined when it has none. */
export function legStampOf(file: string, info: object): LegStamp | undefined {
  const raw = (info as { imagewrightLeg?: unknown }).imagewrightLeg;
  if (raw === undefined) return undefined;
  const stamp = raw as { plan?: unknown; leg?: unknown } | null;
  if (typeof stamp !== 'object' || stamp === null || typeof stamp.leg !== 'string') {
    throw new InputError(file, 'imagewrightLeg', 'expected {"plan": {...}, "leg": <name>}, as build --leg --plan writes it');
  }
  const plan = parseMatrixPlan(stamp.plan, (problem) => new InputError(file, 'imagewrightLeg.plan', problem));
  return { plan, leg: stamp.leg };
}

export interface StampedLegFile {
  file: string;
  stamp: LegStamp | undefined;
}

export interface ExpectedLegs {
  /** The plan from the command line (--plan); default: the plan the first stamped leg file carries. */
  plan?: MatrixPlan;
  /** Only the legs of waves 0 to this one are expected (a merge between waves). */
  throughWave?: number;
}

/**
 * Every leg file of one plan, every planned leg (of the waves expected) with exactly one file.
 * Throws InputError naming the file at fault (OptionError for --plan). Leg files without a stamp
 * and no --plan: nothing to check against (files of older versions), so nothing is checked.
 */
export function checkLegFiles(files: readonly StampedLegFile[], expected: ExpectedLegs): MatrixPlan | undefined {
  const first = files.find((f) => f.stamp);
  const plan = expected.plan ?? first?.stamp?.plan;
  if (!plan) return undefined;
  const source = expected.plan ? 'the plan given as --plan' : `the plan of ${first?.file ?? ''}`;
  const seen = new Map<string, string>();
  for (const { file, stamp } of files) {
    if (!stamp) throw new InputError(file, 'imagewrightLeg', `is missing: not a leg file of ${source} (build --leg --plan writes one)`);
    if (stamp.plan.id !== plan.id) {
      throw new InputError(file, 'imagewrightLeg.plan.id', `is ${stamp.plan.id}: this leg file comes from another plan than ${source} (${plan.id})`);
    }
    if (!plan.legs.some((leg) => leg.name === stamp.leg)) throw new InputError(file, 'imagewrightLeg.leg', `${stamp.leg} is not a leg of plan ${plan.id}`);
    const earlier = seen.get(stamp.leg);
    if (earlier) throw new InputError(file, 'imagewrightLeg.leg', `leg ${stamp.leg} has a file already: ${earlier}`);
    seen.set(stamp.leg, file);
  }
  const missing = plan.legs.filter((leg) => (expected.throughWave === undefined || leg.wave <= expected.throughWave) && !seen.has(leg.name));
  if (missing.length > 0) {
    const names = missing.map((leg) => `${leg.name} (wave ${leg.wave})`).join(', ');
    const problem = `plan ${plan.id} has ${missing.length} leg(s) without a leg file among the ${files.length} given: ${names}; a leg failed, or its file was not passed`;
    if (expected.plan) throw new OptionError('--plan', problem);
    throw new InputError(first?.file ?? '', 'imagewrightLeg.plan.legs', problem);
  }
  return plan;
}

/** `--plan <value>`: the plan as JSON text, as `matrix` prints it. */
export function planOption(value: string): MatrixPlan {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new OptionError('--plan', 'is not JSON: pass the `plan` that `matrix` prints (its JSON output, or plan= in $GITHUB_OUTPUT)');
  }
  return parseMatrixPlan(parsed, (problem) => new OptionError('--plan', problem));
}
