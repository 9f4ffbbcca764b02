/**
 * Which images a Dockerfile's build reads, and how its stages depend on each other, following what
 * BuildKit's Dockerfile frontend does (moby/buildkit frontend/dockerfile/dockerfile2llb). Pure.
 */
import { InputError } from '../errors.js';
import { BUILD_PLATFORM_VARIABLES, buildTimeVariables, DEFAULT_PLATFORM, formatPlatformForBuild } from '../platform.js';
import { parseReference } from '../reference.js';
import { contextUse, REMOTE_SOURCE } from './context-sources.js';
import { isKnownKeyword, parseDockerfile, type RawDirective, type RawInstruction } from './parse.js';
import type { AnalyzeOptions, DockerfileAnalysis, ImageRead, ReadInstruction, Stage, StageBase } from './types.js';
import { expandWord, refersToVariable, splitCsvFields, unquoteFlagValue, WordError, type Expansion } from './words.js';

const SCRATCH = 'scratch';
/** BuildKit's rule for `AS name`, applied after lower-casing. */
const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;
/** What Go's strconv.Atoi accepts, which is how BuildKit tells `--from=1` from `--from=name`. */
const STAGE_INDEX = /^[+-]?[0-9]+$/;
const MOUNTS_WITHOUT_SOURCE: ReadonlySet<string> = new Set(['secret', 'ssh', 'tmpfs']);
const DIRECTIVES: ReadonlySet<string> = new Set(['syntax', 'escape', 'check']);
const FORBIDDEN_TRIGGERS: ReadonlySet<string> = new Set(['ONBUILD', 'FROM', 'MAINTAINER']);

interface Ctx {
  file: string;
  escape: string;
  options: AnalyzeOptions;
  /** Variables that FROM lines and global ARG defaults refer to. */
  used: Set<string>;
}

/** Global ARGs as FROM lines see them. */
interface GlobalScope {
  env: Map<string, string>;
  /** Names declared by ARG before the first FROM. */
  declared: Set<string>;
}

interface StageHead {
  line: number;
  imageWord: string;
  name?: string;
  platformWord?: string;
}

interface StageRef {
  kind: 'stage';
  index: number;
  line: number;
  /** How the reference was written, for messages: `COPY --from=builder`. */
  what: string;
}

interface ImageRef {
  kind: 'image';
  ref: string;
  line: number;
  instruction: ReadInstruction;
}

type Source = StageRef | ImageRef;

interface Trigger {
  instruction: RawInstruction;
  /** Line of the ONBUILD instruction. */
  line: number;
}

interface StageState {
  index: number;
  head: StageHead;
  base: StageBase;
  platform?: string;
  /** Stage and image references, in the order BuildKit runs them (base-stage ONBUILD triggers first). */
  sources: Source[];
  /** This stage's own ONBUILD triggers. */
  triggers: Trigger[];
}

/** Stage names (lower-cased) to their index, for `--from` lookups (all stages, like BuildKit). */
type StageNames = ReadonlyMap<string, number>;

export function analyzeDockerfile(text: string, options: AnalyzeOptions): DockerfileAnalysis {
  const parsed = parseDockerfile(text);
  const ctx: Ctx = { file: options.file, escape: parsed.escape, options, used: new Set() };
  const syntax = readSyntax(parsed.directives, ctx);
  const { globals, heads, bodies } = splitStages(parsed.instructions, ctx);
  const stageHeads = heads.map((head) => readStageHead(head, ctx));
  const names = stageNames(stageHeads, ctx);
  const lastName = stageHeads[stageHeads.length - 1]?.name;
  const scope = globalScope(globals, ctx, lastName ?? 'default');
  const stages = resolveStages(stageHeads, bodies, scope, names, ctx);
  const reachable = reachableStages(stages);
  checkStageOrder(stages, reachable, ctx);

  const analysis: DockerfileAnalysis = {
    stages: stages.map((s) => toStage(s, reachable[s.index] ?? false, bodies[s.index]?.find((i) => i.keyword === 'RUN')?.line)),
    reads: collectReads(stages, reachable, names, syntax, ctx),
  };
  if (syntax) analysis.syntax = syntax.value;
  if (dependsOnBuildPlatform(syntax, parsed.instructions, ctx)) analysis.buildPlatformDependent = true;
  analysis.argNames = [...new Set(parsed.instructions.flatMap((i) => (i.keyword === 'ARG' ? i.properties.map((p) => p.name) : [])))].sort();
  analysis.context = contextUse(
    bodies,
    stages.map((s) => s.base),
    {
      escape: ctx.escape,
      buildArgs: options.buildArgs,
      globals: scope.env,
      opaqueArgs: new Set(options.opaqueArgs ?? []),
      windows: options.platform?.os === 'windows',
    },
  );
  const warnings = remoteAddWarnings(bodies, reachable);
  if (analysis.context.kind === 'whole') warnings.push(`${analysis.context.reason}; the whole build context is keyed`);
  if (warnings.length > 0) analysis.warnings = warnings;
  return analysis;
}


/**
 * `ADD <url>` (or a git repository) fetches content at build time that no build key covers, so a
 * change there rebuilds nothing. Pinned with `--checksum`, its content is in the Dockerfile's bytes.
 */
function remoteAddWarnings(bodies: RawInstruction[][], reachable: boolean[]): string[] {
  const warnings: string[] = [];
  bodies.forEach((body, index) => {
    if (!reachable[index]) return;
    for (const instruction of body) {
      if (instruction.keyword !== 'ADD' || instruction.flags.some((f) => f.name === 'checksum')) continue;
      // The last argument is the destination; JSON-form arguments keep their brackets and quotes.
      const sources = instruction.args.slice(0, -1).map((a) => a.replace(/^[["]+|[",\]]+$/g, ''));
      const remote = sources.find((source) => REMOTE_SOURCE.test(source));
      if (remote) {
        warnings.push(`line ${instruction.line}: ADD ${remote} fetches content that no build key covers, so a change there rebuilds nothing; pin it with ADD --checksum=sha256:<digest>`);
      }
    }
  });
  return warnings;
}

function fail(ctx: Ctx, line: number, problem: string): never {
  throw new InputError(ctx.file, `line ${line}`, problem);
}

function expand(ctx: Ctx, word: string, line: number, what: string, env: ReadonlyMap<string, string>): Expansion {
  try {
    const expansion = expandWord(word, ctx.escape, (name) => env.get(name));
    for (const name of expansion.variables) ctx.used.add(name);
    return expansion;
  } catch (err) {
    if (err instanceof WordError) fail(ctx, line, `${what}: ${err.message}`);
    throw err;
  }
}

// ---- directives ----------------------------------------------------------------------------

interface Syntax {
  /** The directive's whole value (or the BUILDKIT_SYNTAX build arg, which BuildKit prefers). */
  value: string;
  /** The frontend image: the value's first word. */
  ref: string;
  /** 0 when the value comes from the BUILDKIT_SYNTAX build arg. */
  line: number;
}

function readSyntax(directives: RawDirective[], ctx: Ctx): Syntax | undefined {
  const directive = syntaxDirective(directives, ctx);
  const override = ownValue(ctx.options.buildArgs, 'BUILDKIT_SYNTAX')?.trim();
  const value = override || directive?.value;
  if (!value) return undefined;
  const ref = value.split(/\s/, 1)[0] ?? '';
  if (!parseReference(ref)) {
    const problem = `syntax "${value}": "${ref}" is not a valid image reference`;
    if (override) throw new InputError(ctx.file, 'build arg BUILDKIT_SYNTAX', problem);
    fail(ctx, directive?.line ?? 1, problem);
  }
  return { value, ref, line: override ? 0 : (directive?.line ?? 0) };
}

/** The `# syntax=` directive, after checking the directives the way BuildKit's parser does. */
function syntaxDirective(directives: RawDirective[], ctx: Ctx): { value: string; line: number } | undefined {
  const seen = new Set<string>();
  let syntax: { value: string; line: number } | undefined;
  for (const directive of directives) {
    // BuildKit stops reading directives at the first comment that is not one of its own.
    if (!DIRECTIVES.has(directive.name)) break;
    if (seen.has(directive.name)) fail(ctx, directive.line, `only one "# ${directive.name}=" parser directive is allowed`);
    seen.add(directive.name);
    if (directive.name === 'escape' && directive.value !== '\\' && directive.value !== '`') {
      fail(ctx, directive.line, `invalid escape directive "${directive.value}": the escape character must be \\ or \``);
    }
    if (directive.name === 'syntax') syntax = { value: directive.value, line: directive.line };
  }
  return syntax;
}

function ownValue(record: Record<string, string>, key: string): string | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

// ---- stages --------------------------------------------------------------------------------

function splitStages(instructions: RawInstruction[], ctx: Ctx) {
  const globals: RawInstruction[] = [];
  const heads: RawInstruction[] = [];
  const bodies: RawInstruction[][] = [];
  for (const instruction of instructions) {
    if (!isKnownKeyword(instruction.keyword)) fail(ctx, instruction.line, `unknown instruction "${instruction.written}"`);
    if (instruction.keyword === 'FROM') {
      heads.push(instruction);
      bodies.push([]);
    } else if (bodies.length > 0) {
      bodies[bodies.length - 1]?.push(instruction);
    } else if (instruction.keyword === 'ARG') {
      globals.push(instruction);
    } else {
      fail(ctx, instruction.line, `${instruction.written} comes before the first FROM; only ARG may precede it`);
    }
  }
  if (heads.length === 0) fail(ctx, 1, 'no FROM instruction: a Dockerfile needs at least one stage');
  return { globals, heads, bodies };
}

function readStageHead(from: RawInstruction, ctx: Ctx): StageHead {
  const [imageWord, as, name, ...extra] = from.args;
  if (imageWord === undefined) fail(ctx, from.line, 'FROM needs an image');
  const named = as !== undefined && name !== undefined && extra.length === 0 && as.toLowerCase() === 'as';
  if (as !== undefined && !named) {
    fail(ctx, from.line, `FROM takes an image and an optional "AS <name>", got "${from.args.join(' ')}"`);
  }
  const head: StageHead = { line: from.line, imageWord };
  if (named) {
    head.name = name.toLowerCase();
    if (!STAGE_NAME.test(head.name)) {
      fail(ctx, from.line, `invalid stage name "${name}": it must start with a letter and contain only letters, digits, '-', '_' and '.'`);
    }
  }
  const platform = singleFlag(from, 'platform', from.line, ctx);
  if (platform) head.platformWord = platform;
  return head;
}

function stageNames(heads: StageHead[], ctx: Ctx): StageNames {
  const names = new Map<string, number>();
  heads.forEach((head, index) => {
    if (head.name === undefined) return;
    const previous = names.get(head.name);
    if (previous !== undefined) {
      fail(ctx, head.line, `stage name "${head.name}" is already used by the stage at line ${heads[previous]?.line}`);
    }
    names.set(head.name, index);
  });
  return names;
}

function resolveStages(heads: StageHead[], bodies: RawInstruction[][], scope: GlobalScope, names: StageNames, ctx: Ctx): StageState[] {
  const earlier = new Map<string, number>();
  const stages = heads.map((head, index): StageState => {
    const stage: StageState = { index, head, base: resolveBase(head, earlier, scope, ctx), sources: [], triggers: [] };
    const platform = resolvePlatform(head, scope, ctx);
    if (platform !== undefined) stage.platform = platform;
    if (head.name !== undefined) earlier.set(head.name, index);
    return stage;
  });
  const refs = new StageSources(names, stages.length, ctx);
  stages.forEach((stage, index) => {
    for (const instruction of bodies[index] ?? []) {
      if (instruction.keyword === 'ONBUILD') stage.triggers.push(readTrigger(instruction, ctx));
      else stage.sources.push(...refs.of(instruction, instruction.line, undefined));
    }
  });
  // FROM <stage> runs that stage's ONBUILD triggers first, resolving their --from in this Dockerfile.
  for (const stage of stages) {
    if (stage.base.kind !== 'stage') continue;
    const triggers = stages[stage.base.index]?.triggers ?? [];
    stage.sources.unshift(...triggers.flatMap((t) => refs.of(t.instruction, t.line, 'ONBUILD')));
  }
  return stages;
}

/** Like BuildKit: a FROM names a stage only when it matches an *earlier* stage's name exactly. */
function resolveBase(head: StageHead, earlier: ReadonlyMap<string, number>, scope: GlobalScope, ctx: Ctx): StageBase {
  const what = `FROM ${head.imageWord}`;
  const { value, variables } = expand(ctx, head.imageWord, head.line, what, scope.env);
  if (value === '') {
    fail(ctx, head.line, `${what}: the image is empty after substitution (${unsetHint(variables, scope) || 'check the ARGs it uses'})`);
  }
  const stageIndex = earlier.get(value);
  if (stageIndex !== undefined) return { kind: 'stage', index: stageIndex };
  if (value === SCRATCH) return { kind: 'scratch' };
  if (!parseReference(value)) {
    const notes = [unsetHint(variables, scope)];
    if (earlier.has(value.toLowerCase())) notes.push(`stage names in FROM must be written in lower case: "${value.toLowerCase()}"`);
    const detail = notes.filter(Boolean).join('; ');
    fail(ctx, head.line, `${what}: "${value}" is not a valid image reference${detail ? ` (${detail})` : ''}`);
  }
  return { kind: 'image', ref: value };
}

function resolvePlatform(head: StageHead, scope: GlobalScope, ctx: Ctx): string | undefined {
  if (head.platformWord === undefined) return undefined;
  const what = `FROM --platform=${head.platformWord}`;
  const { value, variables } = expand(ctx, head.platformWord, head.line, what, scope.env);
  if (value === '') {
    fail(ctx, head.line, `${what}: the platform is empty after substitution (${unsetHint(variables, scope) || 'check the ARGs it uses'})`);
  }
  return value;
}

function readTrigger(onbuild: RawInstruction, ctx: Ctx): Trigger {
  const trigger = onbuild.trigger;
  if (!trigger) fail(ctx, onbuild.line, 'ONBUILD needs an instruction to run');
  if (FORBIDDEN_TRIGGERS.has(trigger.keyword)) fail(ctx, onbuild.line, `${trigger.keyword} is not allowed as an ONBUILD trigger`);
  return { instruction: trigger, line: onbuild.line };
}

function toStage(state: StageState, reachable: boolean, runLine: number | undefined): Stage {
  const stage: Stage = { index: state.index, base: state.base, line: state.head.line, reachable };
  if (state.head.name !== undefined) stage.name = state.head.name;
  if (state.platform !== undefined) stage.platform = state.platform;
  if (runLine !== undefined) stage.runLine = runLine;
  return stage;
}

// ---- global ARGs ---------------------------------------------------------------------------

function globalScope(globals: RawInstruction[], ctx: Ctx, targetStage: string): GlobalScope {
  const buildArgs = ctx.options.buildArgs;
  const env = automaticArgs(ctx.options, targetStage);
  for (const key of env.keys()) {
    const override = ownValue(buildArgs, key);
    if (override !== undefined) env.set(key, override);
  }
  const declared = new Set<string>();
  for (const arg of globals) {
    if (arg.properties.length === 0) fail(ctx, arg.line, 'ARG needs a name');
    for (const { name, value } of arg.properties) {
      declared.add(name);
      const override = ownValue(buildArgs, name);
      // An ARG without default leaves the variable as it was (unset, or an automatic platform arg).
      if (override !== undefined) env.set(name, override);
      else if (value !== null) env.set(name, expand(ctx, value, arg.line, `ARG ${name}`, env).value);
    }
  }
  return { env, declared };
}

/** BuildKit's automatic platform args, visible to FROM lines without being declared. */
function automaticArgs(options: AnalyzeOptions, targetStage: string): Map<string, string> {
  const build = options.buildPlatform ?? DEFAULT_PLATFORM;
  const target = options.platform ?? build;
  return new Map([
    ...Object.entries(buildTimeVariables(target, build)),
    ['BUILDOSVERSION', ''],
    ['TARGETOSVERSION', ''],
    ['TARGETSTAGE', targetStage],
  ]);
}

/**
 * Whether what the build reads or runs depends on the build host's platform: the syntax frontend
 * runs there, a FROM line or global ARG refers to BUILDPLATFORM/BUILDOS/BUILDARCH/BUILDVARIANT, or a
 * stage declares one of them (its RUN steps see the build host).
 */
function dependsOnBuildPlatform(syntax: Syntax | undefined, instructions: RawInstruction[], ctx: Ctx): boolean {
  if (syntax) return true;
  if ([...ctx.used].some((name) => BUILD_PLATFORM_VARIABLES.has(name))) return true;
  return instructions.some((i) => i.keyword === 'ARG' && i.properties.some((p) => BUILD_PLATFORM_VARIABLES.has(p.name)));
}

/** Why the variables a word uses may have left it empty or invalid. */
function unsetHint(variables: string[], scope: GlobalScope): string {
  const notes: string[] = [];
  for (const name of variables) {
    const value = scope.env.get(name);
    if (value) continue;
    if (value === '') notes.push(`ARG ${name} is empty`);
    else if (scope.declared.has(name)) notes.push(`ARG ${name} has no default and no build arg sets it`);
    else notes.push(`${name} is not a global ARG; declare it with ARG before the first FROM`);
  }
  return notes.join('; ');
}

// ---- flags and stage/image references --------------------------------------------------------

/** Values of every `--name=` flag, quotes removed. Flag names are case-sensitive in BuildKit. */
function flagValues(instruction: RawInstruction, name: string, line: number, ctx: Ctx): string[] {
  const values: string[] = [];
  for (const flag of instruction.flags) {
    if (flag.name === name) {
      if (flag.value === null) fail(ctx, line, `${instruction.keyword} --${name} needs a value: --${name}=...`);
      values.push(unquoteFlagValue(flag.value, ctx.escape));
    } else if (flag.name.toLowerCase() === name) {
      fail(ctx, line, `${instruction.keyword} has an unknown flag --${flag.name}: flag names are case-sensitive, write --${name}`);
    }
  }
  return values;
}

function singleFlag(instruction: RawInstruction, name: string, line: number, ctx: Ctx): string | undefined {
  const values = flagValues(instruction, name, line, ctx);
  if (values.length > 1) fail(ctx, line, `${instruction.keyword} has --${name} more than once`);
  // `--from=` with nothing after it is no --from at all, as in BuildKit.
  return values[0] || undefined;
}

interface MountSpec {
  type: string;
  from?: string;
}

/** `type` and `from` of a `--mount` value; `from` only when the mount type takes one. */
function readMount(value: string): MountSpec {
  const mount: MountSpec = { type: 'bind' };
  for (const field of splitCsvFields(value)) {
    const eq = field.indexOf('=');
    if (eq < 0) continue;
    const key = field.slice(0, eq).toLowerCase();
    if (key === 'type') mount.type = field.slice(eq + 1).toLowerCase();
    else if (key === 'from') mount.from = field.slice(eq + 1);
  }
  if (MOUNTS_WITHOUT_SOURCE.has(mount.type)) delete mount.from;
  return mount;
}

/** Resolves the stage and image references of COPY/ADD --from and RUN --mount, strictly (errors are fatal). */
class StageSources {
  constructor(
    private readonly names: StageNames,
    private readonly stageCount: number,
    private readonly ctx: Ctx,
  ) {}

  /** `via` is 'ONBUILD' for a base stage's trigger run in this stage. */
  of(instruction: RawInstruction, line: number, via: 'ONBUILD' | undefined): Source[] {
    const prefix = via ? 'ONBUILD ' : '';
    switch (instruction.keyword) {
      case 'COPY': {
        const from = singleFlag(instruction, 'from', line, this.ctx);
        return from === undefined ? [] : this.copyFrom(from, line, via ?? 'COPY', `${prefix}COPY --from=${from}`);
      }
      case 'ADD':
        if (flagValues(instruction, 'from', line, this.ctx).length > 0) {
          fail(this.ctx, line, `${prefix}ADD does not support --from (BuildKit rejects it as an unknown flag); use COPY --from`);
        }
        return [];
      case 'RUN':
        return flagValues(instruction, 'mount', line, this.ctx).flatMap((m) => this.mountFrom(m, line, via ?? 'MOUNT', `${prefix}RUN --mount=${m}`));
      default:
        if (!isKnownKeyword(instruction.keyword)) fail(this.ctx, line, `unknown instruction "${prefix}${instruction.written}"`);
        return [];
    }
  }

  private copyFrom(value: string, line: number, instruction: ReadInstruction, what: string): Source[] {
    if (usesVariable(value, this.ctx.escape)) {
      fail(this.ctx, line, `${what}: BuildKit does not expand variables in --from; add a stage "FROM <image> AS <name>" (FROM may use global ARGs) and copy from it`);
    }
    if (STAGE_INDEX.test(value)) {
      const index = Number(value);
      if (index < 0 || index >= this.stageCount) {
        fail(this.ctx, line, `${what}: there is no stage ${value}; stages are numbered 0 to ${this.stageCount - 1}`);
      }
      return [{ kind: 'stage', index, line, what }];
    }
    return this.byName(value, line, instruction, what);
  }

  private mountFrom(value: string, line: number, instruction: ReadInstruction, what: string): Source[] {
    let mount: MountSpec;
    try {
      mount = readMount(value);
    } catch (err) {
      if (err instanceof WordError) fail(this.ctx, line, `${what}: ${err.message}`);
      throw err;
    }
    if (!mount.from) return [];
    // BuildKit rejects a `$` anywhere but at the very end of a mount's from.
    const dollar = mount.from.indexOf('$');
    if (dollar >= 0 && dollar !== mount.from.length - 1) {
      fail(this.ctx, line, `${what}: BuildKit does not expand variables in a mount's from; add a stage "FROM <image> AS <name>" and mount from it`);
    }
    // Mounts name stages only by name; `from=0` is an image called "0", as in BuildKit.
    return this.byName(mount.from, line, instruction, what);
  }

  private byName(value: string, line: number, instruction: ReadInstruction, what: string): Source[] {
    const index = this.names.get(value.toLowerCase());
    if (index !== undefined) return [{ kind: 'stage', index, line, what }];
    if (value === SCRATCH) return [];
    if (!parseReference(value)) fail(this.ctx, line, `${what}: "${value}" is neither a stage name nor a valid image reference`);
    return [{ kind: 'image', ref: value, line, instruction }];
  }
}

function usesVariable(value: string, escape: string): boolean {
  try {
    return refersToVariable(value, escape);
  } catch {
    return true; // a malformed `${...` is a variable reference too
  }
}

// ---- reachability and ordering ---------------------------------------------------------------

function dependencies(stage: StageState): number[] {
  const deps = stage.sources.flatMap((s) => (s.kind === 'stage' ? [s.index] : []));
  if (stage.base.kind === 'stage') deps.push(stage.base.index);
  return deps;
}

/** Stages the final stage needs, transitively; BuildKit skips the others. */
function reachableStages(stages: StageState[]): boolean[] {
  const reachable = stages.map(() => false);
  const pending = [stages.length - 1];
  for (let index = pending.pop(); index !== undefined; index = pending.pop()) {
    if (reachable[index]) continue;
    reachable[index] = true;
    const stage = stages[index];
    if (stage) pending.push(...dependencies(stage));
  }
  return reachable;
}

/**
 * BuildKit builds a stage's sources before it: a stage that uses itself is a circular dependency, and
 * one that the build needs cannot use a later stage ("needs to be defined before current stage").
 */
function checkStageOrder(stages: StageState[], reachable: boolean[], ctx: Ctx): void {
  for (const stage of stages) {
    for (const source of stage.sources) {
      if (source.kind !== 'stage') continue;
      if (source.index === stage.index) fail(ctx, source.line, `${source.what}: a stage cannot use itself`);
      if (source.index > stage.index && reachable[stage.index]) {
        const later = stages[source.index];
        fail(ctx, source.line, `${source.what}: stage ${stageLabel(later)} is defined later (line ${later?.head.line}); a stage can only use stages defined before it`);
      }
    }
  }
  const cycle = findCycle(stages);
  if (cycle) fail(ctx, cycle.line, `${cycle.what}: circular dependency between stages`);
}

/** A stage reference that closes a cycle, if any (only possible among stages the build skips). */
function findCycle(stages: StageState[]): StageRef | undefined {
  const state = stages.map(() => 'new' as 'new' | 'open' | 'done');
  const visit = (index: number): StageRef | undefined => {
    state[index] = 'open';
    for (const source of stages[index]?.sources ?? []) {
      if (source.kind !== 'stage') continue;
      if (state[source.index] === 'open') return source;
      const found = state[source.index] === 'new' ? visit(source.index) : undefined;
      if (found) return found;
    }
    state[index] = 'done';
    return undefined;
  };
  for (const stage of stages) {
    const found = state[stage.index] === 'new' ? visit(stage.index) : undefined;
    if (found) return found;
  }
  return undefined;
}

function stageLabel(stage: StageState | undefined): string {
  return stage?.head.name ?? String(stage?.index);
}

// ---- reads -----------------------------------------------------------------------------------

function collectReads(stages: StageState[], reachable: boolean[], names: StageNames, syntax: Syntax | undefined, ctx: Ctx): ImageRead[] {
  const reads: ImageRead[] = [];
  // BuildKit runs the frontend on the build host, so it is pulled for the build platform.
  const buildPlatform = formatPlatformForBuild(ctx.options.buildPlatform ?? DEFAULT_PLATFORM);
  if (syntax) reads.push({ stage: '', stageIndex: -1, instruction: 'SYNTAX', ref: syntax.ref, line: syntax.line, platform: buildPlatform });
  const final = stages[stages.length - 1];
  for (const stage of stages) {
    if (!reachable[stage.index]) continue;
    const label = stageLabel(stage);
    if (stage.base.kind === 'image') {
      const read: ImageRead = { stage: label, stageIndex: stage.index, instruction: 'FROM', ref: stage.base.ref, line: stage.head.line };
      if (stage.platform !== undefined) read.platform = stage.platform;
      reads.push(read);
    }
    for (const source of stage.sources) {
      if (source.kind === 'image') {
        reads.push({ stage: label, stageIndex: stage.index, instruction: source.instruction, ref: source.ref, line: source.line });
      }
    }
    if (stage === final) {
      for (const read of publishedTriggerReads(stage, names, ctx)) {
        reads.push({ stage: label, stageIndex: stage.index, instruction: 'ONBUILD', ...read });
      }
    }
  }
  return reads;
}

/**
 * The final stage's ONBUILD triggers travel in the published image and run in builds FROM it, where
 * `--from` names the *downstream* Dockerfile's stages. Only values that can only be images count:
 * not an index, not a variable, not a stage name of this Dockerfile, and a valid reference. Nothing
 * here runs in this build, so nothing here is an error either.
 */
function publishedTriggerReads(stage: StageState, names: StageNames, ctx: Ctx): { ref: string; line: number }[] {
  const reads: { ref: string; line: number }[] = [];
  const consider = (value: string | undefined, line: number): void => {
    if (!value || STAGE_INDEX.test(value) || names.has(value.toLowerCase()) || value === SCRATCH) return;
    if (usesVariable(value, ctx.escape) || !parseReference(value)) return;
    reads.push({ ref: value, line });
  };
  for (const { instruction, line } of stage.triggers) {
    for (const flag of instruction.flags) {
      if (flag.value === null) continue;
      const value = unquoteFlagValue(flag.value, ctx.escape);
      if (flag.name === 'from' && (instruction.keyword === 'COPY' || instruction.keyword === 'ADD')) consider(value, line);
      if (flag.name === 'mount' && instruction.keyword === 'RUN') consider(tryReadMount(value)?.from, line);
    }
  }
  return reads;
}

function tryReadMount(value: string): MountSpec | undefined {
  try {
    return readMount(value);
  } catch {
    return undefined;
  }
}
