/**
 * The parts of a Dockerfile the analysis needs, extracted once from dockerfile-ast's tree and cached by
 * text: the same Dockerfile is usually analyzed for several platforms, and dockerfile-ast's parse is the
 * expensive step.
 */
import { DockerfileParser, Keyword } from 'dockerfile-ast';
import type { Arg, Copy, Env, Instruction, ModifiableInstruction, Onbuild } from 'dockerfile-ast';

export interface RawFlag {
  name: string;
  /** null for a bare `--name` without `=`. */
  value: string | null;
}

export interface RawProperty {
  name: string;
  /** The default as written (quotes and escapes kept); null when there is none. */
  value: string | null;
}

export interface RawInstruction {
  /** Upper-cased keyword. */
  keyword: string;
  /** The keyword as written, for messages. */
  written: string;
  /** 1-based line where the instruction starts. */
  line: number;
  /**
   * Arguments after the flags, split at whitespace as BuildKit splits them; only collected for FROM,
   * COPY and ADD. Heredoc bodies are left out (a `<<EOF` word stays: the source is the heredoc).
   */
  args: string[];
  /** COPY and ADD in JSON form (`COPY ["a b", "/dst/"]`): the array's strings. */
  jsonArgs?: string[];
  /** `--name=value` flags; collected for FROM, COPY, ADD and RUN. */
  flags: RawFlag[];
  /** ARG and ENV declarations (global ARGs, before the first FROM, are the only ones FROM sees). */
  properties: RawProperty[];
  /** ONBUILD's trigger instruction; null when ONBUILD has none. */
  trigger?: RawInstruction | null;
}

export interface RawDirective {
  /** Lower-cased name. */
  name: string;
  value: string;
  line: number;
}

export interface ParsedDockerfile {
  escape: string;
  directives: RawDirective[];
  instructions: RawInstruction[];
}

const KNOWN_KEYWORDS: ReadonlySet<string> = new Set(Object.values(Keyword));
const FLAGGED_KEYWORDS: ReadonlySet<string> = new Set([Keyword.FROM, Keyword.COPY, Keyword.ADD, Keyword.RUN]);

export function isKnownKeyword(keyword: string): boolean {
  return KNOWN_KEYWORDS.has(keyword);
}

const CACHE_LIMIT = 4096;
const cache = new Map<string, ParsedDockerfile>();

/** Parses (or returns the cached parse of) a Dockerfile. The result is shared: treat it as read-only. */
export function parseDockerfile(text: string): ParsedDockerfile {
  const cached = cache.get(text);
  if (cached) return cached;
  const parsed = parseUncached(text);
  if (cache.size >= CACHE_LIMIT) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
  cache.set(text, parsed);
  return parsed;
}

function parseUncached(text: string): ParsedDockerfile {
  const dockerfile = DockerfileParser.parse(text);
  return {
    escape: dockerfile.getEscapeCharacter(),
    directives: dockerfile.getDirectives().map((d) => ({
      name: d.getName().toLowerCase(),
      value: d.getValue(),
      line: d.getRange().start.line + 1,
    })),
    instructions: toRawInstructions(dockerfile.getInstructions()),
  };
}

function toRawInstructions(instructions: Instruction[]): RawInstruction[] {
  return instructions.map(toRaw);
}

function toRaw(instruction: Instruction): RawInstruction {
  const keyword = instruction.getKeyword();
  const raw: RawInstruction = {
    keyword,
    written: instruction.getInstruction(),
    line: instruction.getRange().start.line + 1,
    args: [],
    flags: [],
    properties: [],
  };
  // Only ask dockerfile-ast for what is needed: each getter re-scans the instruction's text.
  if (FLAGGED_KEYWORDS.has(keyword)) {
    raw.flags = (instruction as ModifiableInstruction).getFlags().map((f) => ({ name: f.getName(), value: f.getValue() }));
  }
  if (keyword === Keyword.FROM) raw.args = instruction.getArguments().map((a) => a.getValue());
  if (keyword === Keyword.COPY || keyword === Keyword.ADD) {
    raw.args = commandLineArguments(instruction);
    const json = jsonArguments(instruction.getArgumentsContent());
    if (json) raw.jsonArgs = json;
  }
  if (keyword === Keyword.ARG || keyword === Keyword.ENV) {
    raw.properties = (instruction as Arg | Env).getProperties().map((p) => ({ name: p.getName(), value: p.getUnescapedValue() }));
  }
  if (keyword === Keyword.ONBUILD) {
    const trigger = (instruction as Onbuild).getTriggerInstruction();
    raw.trigger = trigger ? toRaw(trigger) : null;
  }
  return raw;
}

/** The arguments on the instruction's own lines: a heredoc's body (the lines after its `<<NAME`) is not one. */
function commandLineArguments(instruction: Instruction): string[] {
  const args = instruction.getArguments();
  // COPY and ADD both offer getHeredocs (ADD extends COPY's base in dockerfile-ast).
  const heredocs = (instruction as Copy).getHeredocs();
  const first = heredocs[0];
  if (!first) return args.map((a) => a.getValue());
  const bodyStarts = first.getStartRange().start.line + 1;
  return args.filter((a) => a.getRange().start.line < bodyStarts).map((a) => a.getValue());
}

/**
 * BuildKit's JSON form: the arguments are a JSON array of strings (otherwise they are words, even
 * when they start with `[`). dockerfile-ast splits the array at whitespace, so it is parsed here.
 */
function jsonArguments(content: string | null): string[] | undefined {
  const text = content?.trim();
  if (!text?.startsWith('[')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;
  } catch {
    return undefined;
  }
}
