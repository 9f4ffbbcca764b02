/**
 * Which files of the build context a Dockerfile's build can read: the sources of `COPY` and `ADD`
 * without `--from`, and of `RUN --mount=type=bind` without `from`, in every stage, after ARG and ENV
 * substitution. BuildKit transfers only those paths of the context (its include patterns), so a file
 * none of them reaches cannot change the image. Pure.
 *
 * Conservative where the Dockerfile alone cannot say: a source that refers to a variable whose value
 * is not known before the build (set by the base image's ENV, by a `--build-arg` whose value is kept
 * from the analysis, or by an ARG of another stage) makes the whole context count, with the reason.
 */
import path from 'node:path';
import type { RawInstruction } from './parse.js';
import type { ContextSource, ContextUse, StageBase } from './types.js';
import { expandWord, splitCsvFields, unquoteFlagValue, WordError } from './words.js';

/** A URL or git source, the way ADD tells them from local paths. */
export const REMOTE_SOURCE = /^(?:[a-z][a-z0-9+.-]*:\/\/|git@)/i;

export interface SourceScope {
  escape: string;
  /** The platform's build args (values known to the analysis). */
  buildArgs: Readonly<Record<string, string>>;
  /** Global ARGs and BuildKit's automatic args as a stage's `ARG NAME` (without default) takes them. */
  globals: ReadonlyMap<string, string>;
  /** Build args whose values the analysis does not see (`--build-arg` from the command line). */
  opaqueArgs: ReadonlySet<string>;
  /** Windows paths: `\` separates folders and names match whatever their case. */
  windows: boolean;
}

/** A variable's value, or why it is not known before the build. */
type Value = { value: string; unknown?: undefined } | { value?: undefined; unknown: string };

interface StageEnv {
  values: Map<string, Value & { fromEnv: boolean }>;
  /** Names not in `values` may be set by the base image's ENV. */
  open: boolean;
}

class Unresolved extends Error {}

export function contextUse(bodies: readonly RawInstruction[][], bases: readonly StageBase[], scope: SourceScope): ContextUse {
  const ends: StageEnv[] = [];
  const sources: ContextSource[] = [];
  const triggersOf = (index: number): RawInstruction[] =>
    (bodies[index] ?? []).flatMap((i) => (i.keyword === 'ONBUILD' && i.trigger ? [{ ...i.trigger, line: i.line }] : []));
  try {
    bodies.forEach((body, index) => {
      const base = bases[index];
      const env = startEnv(base, ends);
      // FROM <stage> runs that stage's ONBUILD triggers first.
      const instructions = base?.kind === 'stage' ? [...triggersOf(base.index), ...body] : body;
      for (const instruction of instructions) sources.push(...visit(instruction, env, scope));
      ends[index] = env;
    });
  } catch (error) {
    if (error instanceof Unresolved) return { kind: 'whole', reason: error.message };
    throw error;
  }
  return { kind: 'sources', sources };
}

function startEnv(base: StageBase | undefined, ends: readonly StageEnv[]): StageEnv {
  if (base?.kind === 'stage') {
    const parent = ends[base.index];
    const values = new Map<string, Value & { fromEnv: boolean }>();
    // ENV is inherited; whether a parent stage's ARG is depends on the BuildKit release, so it is unknown.
    for (const [name, value] of parent?.values ?? []) {
      values.set(name, value.fromEnv ? value : { unknown: `ARG ${name} of another stage`, fromEnv: false });
    }
    return { values, open: parent?.open ?? true };
  }
  return { values: new Map(), open: base?.kind !== 'scratch' };
}

function visit(instruction: RawInstruction, env: StageEnv, scope: SourceScope): ContextSource[] {
  const at = `line ${instruction.line}`;
  switch (instruction.keyword) {
    case 'ARG':
      for (const { name, value } of instruction.properties) declareArg(name, value, env, scope, at);
      return [];
    case 'ENV':
      for (const { name, value } of instruction.properties) {
        const expanded = value === null ? { value: '' } : expand(value, env, scope, `${at}: ENV ${name}`, false);
        env.values.set(name, { ...expanded, fromEnv: true });
      }
      return [];
    case 'COPY':
    case 'ADD':
      return copySources(instruction, env, scope, at);
    case 'RUN':
      return mountSources(instruction, env, scope, at);
    default:
      return [];
  }
}

function declareArg(name: string, written: string | null, env: StageEnv, scope: SourceScope, at: string): void {
  // ENV wins over an ARG of the same name.
  if (env.values.get(name)?.fromEnv) return;
  let value: Value;
  if (scope.opaqueArgs.has(name)) value = { unknown: `build arg ${name} is given on the command line` };
  else if (Object.hasOwn(scope.buildArgs, name)) value = { value: scope.buildArgs[name] ?? '' };
  else if (written !== null) value = expand(written, env, scope, `${at}: ARG ${name}`, false);
  else if (scope.globals.has(name)) value = { value: scope.globals.get(name) ?? '' };
  else if (env.open) value = { unknown: `ARG ${name} has no value and the base image may set ${name}` };
  else value = { value: '' };
  env.values.set(name, { ...value, fromEnv: false });
}

/**
 * A word with the stage's variables substituted. `strict`: an unknown variable makes the whole
 * context count (a source); otherwise it makes the result unknown (a variable's value).
 */
function expand(word: string, env: StageEnv, scope: SourceScope, what: string, strict: boolean): Value {
  let unknown: string | undefined;
  const lookup = (name: string): string | undefined => {
    const known = env.values.get(name);
    if (known) {
      if (known.unknown !== undefined) unknown ??= known.unknown;
      return known.value;
    }
    if (env.open) unknown ??= `$${name} may be set by the base image`;
    return undefined;
  };
  let value: string;
  try {
    value = expandWord(word, scope.escape, lookup).value;
  } catch (error) {
    if (error instanceof WordError) throw new Unresolved(`${what}: ${error.message}`);
    throw error;
  }
  if (unknown === undefined) return { value };
  if (strict) throw new Unresolved(`${what}: ${unknown}, so the source is known only when the build runs`);
  return { unknown };
}

function copySources(instruction: RawInstruction, env: StageEnv, scope: SourceScope, at: string): ContextSource[] {
  if (instruction.flags.some((f) => f.name === 'from' && f.value)) return [];
  const json = instruction.jsonArgs;
  const words = json ?? instruction.args;
  const kind = instruction.keyword === 'ADD' ? 'ADD' : 'COPY';
  const sources: ContextSource[] = [];
  // The last word is the destination.
  for (const word of words.slice(0, -1)) {
    if (!json && word.startsWith('<<')) continue; // a heredoc: its content is in the Dockerfile
    const what = `${at}: ${kind} ${word}`;
    const expanded = expand(word, env, scope, what, true).value ?? '';
    if (kind === 'ADD' && REMOTE_SOURCE.test(expanded)) continue; // fetched, not read from the context
    sources.push({ instruction: kind, line: instruction.line, path: contextPath(expanded, scope, what), written: word });
  }
  return sources;
}

function mountSources(instruction: RawInstruction, env: StageEnv, scope: SourceScope, at: string): ContextSource[] {
  const sources: ContextSource[] = [];
  for (const flag of instruction.flags) {
    if (flag.name !== 'mount' || flag.value === null) continue;
    const value = unquoteFlagValue(flag.value, scope.escape);
    const what = `${at}: RUN --mount=${value}`;
    let type = 'bind';
    let from: string | undefined;
    let source = '';
    try {
      for (const field of splitCsvFields(value)) {
        const eq = field.indexOf('=');
        const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
        const fieldValue = eq < 0 ? '' : field.slice(eq + 1);
        if (key === 'type') type = fieldValue.toLowerCase();
        else if (key === 'from') from = fieldValue;
        else if (key === 'source' || key === 'src') source = fieldValue;
      }
    } catch (error) {
      if (error instanceof WordError) throw new Unresolved(`${what}: ${error.message}`);
      throw error;
    }
    if (type !== 'bind' || from) continue;
    const expanded = expand(source, env, scope, what, true).value ?? '';
    sources.push({ instruction: 'MOUNT', line: instruction.line, path: contextPath(expanded, scope, what), written: source || '.' });
  }
  return sources;
}

/** A source as a context-relative POSIX path (or pattern), as BuildKit cleans it: '' is the whole context. */
function contextPath(source: string, scope: SourceScope, what: string): string {
  const slashed = scope.windows ? source.replace(/\\/g, '/').replace(/^[a-z]:/i, '') : source;
  // `path.join('/', …)` as BuildKit does: `..` cannot climb out, `./` and a trailing `/` go.
  const cleaned = path.posix.join('/', slashed).slice(1).replace(/\/+$/, '');
  // Ignore-file syntax gives these a meaning of their own; such a source is matched only by reading everything.
  if (cleaned.startsWith('!') || cleaned.startsWith('#')) throw new Unresolved(`${what}: a source starting with "${cleaned[0]}" cannot be matched exactly`);
  return cleaned;
}
