/**
 * A plan saved with `plan --format json`, read back for `report --plan`. A saved file is input like
 * any other (it may come from another machine or a pull request): every field the report uses is
 * checked, and the first wrong one is named by its JSON path.
 */
import { InputError } from '../errors.js';
import type { PlanJson } from '../plan/index.js';

class ShapeError extends Error {
  constructor(
    readonly at: string,
    problem: string,
  ) {
    super(problem);
  }
}

type Json = Record<string, unknown>;

function object(value: unknown, at: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ShapeError(at, 'must be an object');
  return value as Json;
}

function array(value: unknown, at: string): unknown[] {
  if (!Array.isArray(value)) throw new ShapeError(at, 'must be an array');
  return value;
}

function string(o: Json, key: string, at: string): string {
  const value = o[key];
  if (typeof value !== 'string') throw new ShapeError(`${at}.${key}`, 'must be a string');
  return value;
}

function strings(value: unknown, at: string): string[] {
  return array(value, at).map((s, i) => {
    if (typeof s !== 'string') throw new ShapeError(`${at}[${i}]`, 'must be a string');
    return s;
  });
}

function reasons(value: unknown, at: string): void {
  array(value, at).forEach((r, i) => {
    const reason = object(r, `${at}[${i}]`);
    string(reason, 'kind', `${at}[${i}]`);
    string(reason, 'detail', `${at}[${i}]`);
    if (reason.kind === 'upstream-rebuilt') strings(reason.path, `${at}[${i}].path`);
  });
}

function checkPlatform(value: unknown, at: string): void {
  const p = object(value, at);
  for (const key of ['id', 'dockerfile', 'buildKey']) string(p, key, at);
  if (p.decision !== 'build' && p.decision !== 'reuse') throw new ShapeError(`${at}.decision`, 'must be "build" or "reuse"');
  strings(p.tags, `${at}.tags`);
  strings(p.newTags, `${at}.newTags`);
  reasons(p.reasons, `${at}.reasons`);
  array(p.fromImages, `${at}.fromImages`).forEach((r, i) => {
    const read = object(r, `${at}.fromImages[${i}]`);
    for (const key of ['instruction', 'ref', 'digest']) string(read, key, `${at}.fromImages[${i}]`);
    if (typeof read.internal !== 'boolean') throw new ShapeError(`${at}.fromImages[${i}].internal`, 'must be true or false');
  });
  const inputs = object(p.inputs, `${at}.inputs`);
  for (const key of ['dockerfile', 'context', 'platform']) string(inputs, key, `${at}.inputs`);
  const args = object(inputs.buildArgs, `${at}.inputs.buildArgs`);
  for (const name of Object.keys(args)) string(args, name, `${at}.inputs.buildArgs`);
}

function checkIndex(value: unknown, at: string): void {
  const index = object(value, at);
  string(index, 'repo', at);
  string(index, 'action', at);
  strings(index.sharedTags, `${at}.sharedTags`);
  reasons(index.reasons, `${at}.reasons`);
}

/** Parses the text of a saved plan; `file` names it in errors. */
export function parseSavedPlan(text: string, file: string): PlanJson {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InputError(file, undefined, `not a plan saved with \`plan --format json\`: ${(err as Error).message}`);
  }
  try {
    const plan = object(value, '$');
    array(plan.platforms, '$.platforms').forEach((p, i) => checkPlatform(p, `$.platforms[${i}]`));
    array(plan.indexes ?? [], '$.indexes').forEach((x, i) => checkIndex(x, `$.indexes[${i}]`));
    return { platforms: plan.platforms, indexes: plan.indexes ?? [] } as PlanJson;
  } catch (err) {
    if (err instanceof ShapeError) throw new InputError(file, err.at, `${err.message} (a plan saved with \`plan --format json\`)`);
    throw err;
  }
}
