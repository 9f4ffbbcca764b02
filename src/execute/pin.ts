/**
 * Pinning a Dockerfile's image reads to the digests the plan resolved, so that a tag moving during
 * the run cannot make the build use other bytes than the ones its build key and image-info name.
 * Positions come from dockerfile-ast; only the image words change, so line numbers, comments and
 * continuations stay as written.
 */
import { DockerfileParser, From, ModifiableInstruction, type Dockerfile, type Flag, type Instruction, type ParserDirective } from 'dockerfile-ast';
import type { ImageRead } from '../dockerfile/types.js';
import { InputError } from '../errors.js';

type Range = ReturnType<Instruction['getRange']>;

export interface DockerfilePin {
  /** 1-based line of the reading instruction or directive (ImageRead.line); any line of a multi-line instruction will do. */
  line: number;
  /** ONBUILD: the `--from` or mount `from=` inside the ONBUILD trigger at `line`. */
  instruction: ImageRead['instruction'];
  /** The reference after ARG substitution, as the analysis reported it (ImageRead.ref). */
  ref: string;
  /** What the image word becomes, e.g. `registry/repo:tag@sha256:…`. */
  pinned: string;
}

interface Slot {
  range: Range;
  written: string;
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

/**
 * `text` with each pinned read's image word replaced by its pin. A word that holds a variable
 * (`FROM ${BASE}`) is replaced whole by the literal, which is what the variable resolved to.
 * Throws InputError naming the line when a pin has no image word to go to.
 */
export function pinDockerfile(text: string, pins: readonly DockerfilePin[], file = 'Dockerfile'): string {
  if (pins.length === 0) return text;
  const dockerfile = DockerfileParser.parse(text);
  const lines = lineStarts(text);
  const edits: Edit[] = [];
  for (const { site, pins: group } of groupBySite(dockerfile, pins, file)) {
    for (const [slot, pin] of assignPins(slotsOf(site), group, text, lines, file)) {
      edits.push({ start: offsetOf(lines, slot.range.start), end: offsetOf(lines, slot.range.end), text: pin.pinned });
    }
  }
  return applyEdits(text, edits);
}

/** Where a read happens: the syntax directive, an instruction, or an ONBUILD trigger. */
type Site = { kind: 'syntax'; directive: ParserDirective } | { kind: 'FROM' | 'COPY' | 'ADD' | 'MOUNT' | 'ONBUILD'; instruction: Instruction };

/** Pins grouped by the directive or instruction they apply to, each group in the order given (Dockerfile order). */
function groupBySite(dockerfile: Dockerfile, pins: readonly DockerfilePin[], file: string): Array<{ site: Site; pins: DockerfilePin[] }> {
  const groups = new Map<object, { site: Site; pins: DockerfilePin[] }>();
  for (const pin of pins) {
    const site = siteOf(dockerfile, pin);
    if (!site) throw new InputError(file, `line ${pin.line}`, `cannot pin ${pin.ref}: no ${describe(pin.instruction)} there`);
    const key = site.kind === 'syntax' ? site.directive : site.instruction;
    const group = groups.get(key);
    if (group) group.pins.push(pin);
    else groups.set(key, { site, pins: [pin] });
  }
  return [...groups.values()];
}

function siteOf(dockerfile: Dockerfile, pin: DockerfilePin): Site | undefined {
  const { instruction: kind, line } = pin;
  if (kind === 'SYNTAX') {
    const directive = dockerfile.getDirectives().find((d) => d.getName().toLowerCase() === 'syntax');
    return directive ? { kind: 'syntax', directive } : undefined;
  }
  const candidates = kind === 'ONBUILD' ? dockerfile.getOnbuildTriggers() : dockerfile.getInstructions();
  const keyword = kind === 'MOUNT' ? 'RUN' : kind;
  const instruction = candidates.find((i) => (kind === 'ONBUILD' || i.getKeyword() === keyword) && spansLine(i, line));
  return instruction ? { kind, instruction } : undefined;
}

/** The image words a site could read. */
function slotsOf(site: Site): Slot[] {
  switch (site.kind) {
    case 'syntax':
      return [firstWord({ range: site.directive.getValueRange(), written: site.directive.getValue() })];
    case 'FROM':
      return fromSlots(site.instruction);
    case 'MOUNT':
      return mountSlots(site.instruction);
    case 'ONBUILD':
      return site.instruction.getKeyword() === 'RUN' ? mountSlots(site.instruction) : flagSlots(site.instruction, 'from');
    default:
      return flagSlots(site.instruction, 'from');
  }
}

/** The directive's image is its first word; BuildKit ignores what follows. */
function firstWord(slot: Slot): Slot {
  const word = /^\S*/.exec(slot.written)?.[0] ?? '';
  const { start } = slot.range;
  return { range: { start, end: { line: start.line, character: start.character + word.length } }, written: word };
}

function spansLine(instruction: Instruction, line: number): boolean {
  const range = instruction.getRange();
  return range.start.line + 1 <= line && line <= range.end.line + 1;
}

function fromSlots(instruction: Instruction): Slot[] {
  if (!(instruction instanceof From)) return [];
  const range = instruction.getImageRange();
  const image = instruction.getImage();
  return range && image !== null ? [{ range, written: image }] : [];
}

function flagsOf(instruction: Instruction): Flag[] {
  return instruction instanceof ModifiableInstruction ? instruction.getFlags() : [];
}

function flagSlots(instruction: Instruction, name: string): Slot[] {
  const slots: Slot[] = [];
  for (const flag of flagsOf(instruction)) {
    const range = flag.getValueRange();
    const value = flag.getValue();
    if (flag.getName().toLowerCase() === name && range && value) slots.push({ range, written: value });
  }
  return slots;
}

function mountSlots(instruction: Instruction): Slot[] {
  const slots: Slot[] = [];
  for (const flag of flagsOf(instruction)) {
    if (flag.getName().toLowerCase() !== 'mount') continue;
    for (const option of flag.getOptions()) {
      const range = option.getValueRange();
      const value = option.getValue();
      if (option.getName().toLowerCase() === 'from' && range && value) slots.push({ range, written: value });
    }
  }
  return slots;
}

/**
 * Which word each pin replaces. A literal word matches the pin with the same reference; a word with
 * a variable cannot be compared, so the remaining pins go to such words in order. A word that
 * names a stage gets no pin: the analysis reported no read for it.
 */
function assignPins(slots: Slot[], pins: DockerfilePin[], text: string, lines: number[], file: string): Array<[Slot, DockerfilePin]> {
  const assigned: Array<[Slot, DockerfilePin]> = [];
  const unusedPins = [...pins];
  const unusedSlots: Slot[] = [];
  for (const slot of slots) {
    const written = unquote(slot.written);
    const at = unusedPins.findIndex((pin) => pin.ref === written || pin.pinned === written);
    if (at >= 0) assigned.push([slot, unusedPins.splice(at, 1)[0] as DockerfilePin]);
    else if (slot.written.includes('$')) unusedSlots.push(slot);
  }
  for (const slot of unusedSlots) {
    const pin = unusedPins.shift();
    if (pin) assigned.push([slot, pin]);
  }
  const missed = unusedPins[0];
  if (missed) {
    const where = slots.map((s) => text.slice(offsetOf(lines, s.range.start), offsetOf(lines, s.range.end)));
    throw new InputError(
      file,
      `line ${missed.line}`,
      `cannot pin ${missed.ref}: the ${describe(missed.instruction)} there reads ${where.length ? where.join(', ') : 'no image'}`,
    );
  }
  return assigned;
}

/** Flag values may be quoted (`--from="image"`); the quotes are not part of the reference. */
function unquote(word: string): string {
  const quoted = /^"(.*)"$/.exec(word) ?? /^'(.*)'$/.exec(word);
  return quoted?.[1] ?? word;
}

function describe(instruction: ImageRead['instruction']): string {
  switch (instruction) {
    case 'ONBUILD':
      return 'ONBUILD trigger reading an image';
    case 'SYNTAX':
      return '# syntax directive';
    case 'MOUNT':
      return 'RUN --mount from';
    case 'FROM':
      return 'FROM instruction';
    default:
      return `${instruction} --from`;
  }
}

/** Offsets of line starts; line breaks as dockerfile-ast counts them (\r\n, \n, \r). */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
    if (c === 10 || c === 13) starts.push(i + 1);
  }
  return starts;
}

function offsetOf(lines: number[], position: Range['start']): number {
  return (lines[position.line] ?? 0) + position.character;
}

function applyEdits(text: string, edits: Edit[]): string {
  let result = text;
  for (const edit of [...edits].sort((a, b) => b.start - a.start)) {
    result = result.slice(0, edit.start) + edit.text + result.slice(edit.end);
  }
  return result;
}
