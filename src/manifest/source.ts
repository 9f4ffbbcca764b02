/**
 * One manifest file: its parsed value, and the means to turn a JSON path into the `path (line N)`
 * location every message about it carries. Values come from JSON.parse (native, fast); jsonc-parser's
 * syntax tree is built only when a message needs the line of something other than an array element,
 * or when the text is not plain JSON (comments, which ImageBuilder's reader accepts, or a syntax error).
 */
import { readFileSync, statSync } from 'node:fs';
import { findNodeAtLocation, getNodeValue, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { InputError } from '../errors.js';
import { FORBIDDEN_CONTROL } from '../paths.js';
import { formatPath, type JsonPath } from './path.js';
import { scanJson, type ScanIndex } from './scan.js';
import type { SourceLocation } from './types.js';

export { formatPath, type JsonPath };

/** A place in a manifest file that a message can blame. */
export interface Site {
  file: SourceFile;
  path: JsonPath;
}

export class SourceFile {
  private readonly lineStarts: number[];
  private tree?: Node;

  constructor(
    /** Absolute path. */
    readonly abs: string,
    /** How messages name the file. */
    readonly display: string,
    readonly text: string,
    readonly value: unknown,
    private readonly index: ScanIndex,
  ) {
    this.lineStarts = lineStartsOf(text);
  }

  /** 1-based line of a character offset. */
  lineAt(offset: number): number {
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.lineStarts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  }

  /** Offset of the value at a path, or of its nearest existing ancestor (a missing field blames its parent). */
  offsetOf(jsonPath: JsonPath): number {
    const last = jsonPath[jsonPath.length - 1];
    if (typeof last === 'number') {
      const offset = this.index.elementOffsets.get(formatPath(jsonPath.slice(0, -1)))?.[last];
      if (offset !== undefined) return offset;
    }
    this.tree ??= parseTree(this.text) ?? { type: 'null', offset: 0, length: 0 };
    for (let depth = jsonPath.length; depth >= 0; depth--) {
      const node = findNodeAtLocation(this.tree, [...jsonPath.slice(0, depth)]);
      if (node) return node.offset;
    }
    return 0;
  }

  lineOf(jsonPath: JsonPath): number {
    return this.lineAt(this.offsetOf(jsonPath));
  }

  /** `repos[0].tags["x"] (line 7)` */
  where(jsonPath: JsonPath): string {
    const shown = formatPath(jsonPath);
    const line = `line ${this.lineOf(jsonPath)}`;
    return shown ? `${shown} (${line})` : line;
  }

  error(jsonPath: JsonPath, problem: string): InputError {
    return new InputError(this.display, this.where(jsonPath), problem);
  }

  location(jsonPath: JsonPath): SourceLocation {
    return { file: this.abs, path: formatPath(jsonPath), line: this.lineOf(jsonPath) };
  }

  /**
   * A string value, or a number's or boolean's text: ImageBuilder's reader turns `3.10` where it
   * wants a string into "3.10", where JavaScript would print 3.1.
   */
  scalarText(value: string | number | boolean, jsonPath: JsonPath): string {
    if (typeof value === 'string') return value;
    return (typeof value === 'number' && this.index.numberTexts.get(formatPath(jsonPath))) || String(value);
  }

  /** An object's keys in the order written (JavaScript would put index-like keys such as "10" first). */
  keysOf(object: object, jsonPath: JsonPath): string[] {
    return this.index.keyOrder.get(formatPath(jsonPath)) ?? Object.keys(object);
  }
}

/** Names a site relative to a file: just `path (line N)` in the same file, else prefixed by its file. */
export function describeSite(site: Site, from: SourceFile): string {
  return site.file === from ? site.file.where(site.path) : `${site.file.display}: ${site.file.where(site.path)}`;
}

export function siteError(site: Site, problem: string): InputError {
  return site.file.error(site.path, problem);
}

export function at(site: Site, ...rest: Array<string | number>): Site {
  return { file: site.file, path: [...site.path, ...rest] };
}

/** The largest manifest file read (public manifests are a few KB); a larger one is hostile input. */
export const MANIFEST_MAX_BYTES = 4 * 1024 * 1024;

/** Deepest nesting of arrays and objects (real manifests nest about 8 deep). */
export const MANIFEST_MAX_DEPTH = 64;
/** Longest string or key, in characters (real manifests' are under 100). */
export const MANIFEST_MAX_STRING = 64 * 1024;

/**
 * One pass over the text, before anything parses it, refusing nesting deeper than MANIFEST_MAX_DEPTH
 * and strings longer than MANIFEST_MAX_STRING: a 41 KB file of brackets took 4 GB to index and a deep
 * object overflowed the stack. Knows strings and comments; leaves syntax errors to the parser.
 */
function checkBounds(text: string, refuse: (offset: number, problem: string) => InputError): void {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
      if (i - start - 1 > MANIFEST_MAX_STRING) throw refuse(start, `string longer than ${MANIFEST_MAX_STRING} characters`);
    } else if (c === 0x2f /* / */ && text.charCodeAt(i + 1) === 0x2f) {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end;
    } else if (c === 0x2f && text.charCodeAt(i + 1) === 0x2a /* * */) {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 1;
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > MANIFEST_MAX_DEPTH) throw refuse(i, `nested deeper than ${MANIFEST_MAX_DEPTH} levels`);
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
}

/** Read and parse one manifest file. `blame` is where it was named (an include entry); undefined for the top file. */
export function readSource(abs: string, display: string, blame?: Site): SourceFile {
  let text: string;
  const refuse = (reason: string): InputError => (blame ? siteError(blame, `included file ${JSON.stringify(display)} ${reason}`) : new InputError(display, undefined, `manifest ${reason}`));
  // A FIFO or a device (/dev/zero) would be read without end: only regular files, of a bounded size.
  const stat = statSync(abs, { throwIfNoEntry: false });
  if (stat && !stat.isFile()) throw refuse('is not a regular file');
  if (stat && stat.size > MANIFEST_MAX_BYTES) throw refuse(`is larger than ${MANIFEST_MAX_BYTES} bytes`);
  try {
    // Synchronous: for one file at startup it is several times faster than the promise API.
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    throw refuse((err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${String(err)})`);
  }
  // A byte-order mark is valid at the start of a JSON file written by Windows tools.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const source = text;
  checkBounds(text, (offset, problem) => {
    const { line, column } = lineColumn(source, offset);
    return new InputError(display, `line ${line}, column ${column}`, problem);
  });
  const value = parseJsonText(text, display);
  const index = scanJson(text);
  const file = new SourceFile(abs, display, text, value, index);
  if (index.duplicate) {
    const { path: dupPath, offset, firstOffset } = index.duplicate;
    const parent = dupPath[dupPath.length - 2];
    const what = parent === 'tags' || parent === 'sharedTags' ? 'tag' : 'key';
    throw new InputError(
      display,
      `${formatPath(dupPath)} (line ${file.lineAt(offset)})`,
      `duplicate ${what} ${JSON.stringify(dupPath[dupPath.length - 1])} (first at line ${file.lineAt(firstOffset)})`,
    );
  }
  const control = firstControlCharacter(value);
  if (control) {
    const code = control.character.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    throw file.error(control.path, `contains control character U+${code}: names, tags, paths and values in a manifest may not (a terminal would run it)`);
  }
  return file;
}

/** The first string or key holding a control character, depth first, without recursion. */
function firstControlCharacter(root: unknown): { path: JsonPath; character: string } | undefined {
  const stack: Array<{ value: unknown; path: JsonPath }> = [{ value: root, path: [] }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { value, path: at } = item;
    if (typeof value === 'string') {
      const found = FORBIDDEN_CONTROL.exec(value);
      if (found) return { path: at, character: found[0] };
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: [...at, i] });
    } else if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value);
      for (const [key] of entries) {
        const found = FORBIDDEN_CONTROL.exec(key);
        if (found) return { path: [...at, key], character: found[0] };
      }
      for (let i = entries.length - 1; i >= 0; i--) stack.push({ value: (entries[i] as [string, unknown])[1], path: [...at, (entries[i] as [string, unknown])[0]] });
    }
  }
  return undefined;
}

/**
 * JSON (comments allowed) from `text`; a syntax error is an InputError naming `display`, line and
 * column, that never quotes the text (a Docker config's credentials, say).
 */
export function parseJsonText(text: string, display: string, options: { allowTrailingComma?: boolean } = {}): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Not plain JSON: comments (accepted) or a syntax error (reported with line and column).
  }
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { disallowComments: false, allowTrailingComma: options.allowTrailingComma ?? false, allowEmptyContent: false });
  const first = errors[0];
  if (first || !root) {
    const offset = first?.offset ?? 0;
    const { line, column } = lineColumn(text, offset);
    const problem = first ? describeParseError(first.error, text, offset) : 'empty file';
    throw new InputError(display, `line ${line}, column ${column}`, `invalid JSON: ${problem}`);
  }
  return getNodeValue(root) as unknown;
}

function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - (before.lastIndexOf('\n') + 1) + 1 };
}

// Keyed by printed code name: the enum is a `const enum`, which per-file transpilers cannot inline.
const PARSE_PROBLEMS: Record<string, string> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'expected a property name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: "expected ':'",
  CommaExpected: "expected ','",
  CloseBraceExpected: "expected '}'",
  CloseBracketExpected: "expected ']'",
  EndOfFileExpected: 'unexpected content after the end of the JSON value',
  InvalidCommentToken: 'invalid comment',
  UnexpectedEndOfComment: 'unterminated comment',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'unterminated number',
  InvalidUnicode: 'invalid unicode escape',
  InvalidEscapeCharacter: 'invalid escape character',
  InvalidCharacter: 'invalid character in string',
};

function describeParseError(code: ParseError['error'], text: string, offset: number): string {
  const name = printParseErrorCode(code);
  const problem = PARSE_PROBLEMS[name] ?? 'syntax error';
  if (offset >= text.length) return `${problem} (unexpected end of file)`;
  // jsonc-parser reports a trailing comma as a missing name or value at the closing bracket.
  if (name === 'PropertyNameExpected' || name === 'ValueExpected') {
    const previous = text.slice(0, offset).trimEnd();
    if (previous.endsWith(',') && /^[\]}]/.test(text.slice(offset))) return 'trailing comma';
  }
  return problem;
}
