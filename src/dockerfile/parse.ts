/**
 * The parts of a Dockerfile the analysis needs, extracted once from dockerfile-ast's tree and cached by
 * text: the same Dockerfile is usually analyzed for several platforms, and dockerfile-ast's parse is the
 * expensive step.
 */
import { DockerfileParser, Keyword } from 'dockerfile-ast';
import type { Arg, Instruction, ModifiableInstruction, Onbuild } from 'dockerfile-ast';

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
  /** Arguments after the flags; only collected for FROM and ADD. */
  args: string[];
  /** `--name=value` flags; collected for FROM, COPY, ADD and RUN. */
  flags: RawFlag[];
  /** ARG declarations (global ARGs, before the first FROM, are the only ones FROM sees). */
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
  if (keyword === Keyword.FROM || keyword === Keyword.ADD) raw.args = instruction.getArguments().map((a) => a.getValue());
  if (keyword === Keyword.ARG) {
    raw.properties = (instruction as Arg).getProperties().map((p) => ({ name: p.getName(), value: p.getUnescapedValue() }));
  }
  if (keyword === Keyword.ONBUILD) {
    const trigger = (instruction as Onbuild).getTriggerInstruction();
    raw.trigger = trigger ? toRaw(trigger) : null;
  }
  return raw;
}
