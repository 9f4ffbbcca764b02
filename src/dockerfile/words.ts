/**
 * Single-word processing the way BuildKit's Dockerfile frontend does it: quote removal, the escape
 * character, and `$VAR` / `${VAR...}` substitution (including the `:-`, `-`, `:+`, `+`, `:?`, `?`,
 * `#`, `##`, `%`, `%%` and `/` forms). Also the flag-value helpers BuildKit applies before that.
 * Dockerfile *structure* is parsed by dockerfile-ast; this module only ever sees one word.
 */

/** A malformed word; the caller knows the file and line and turns it into an InputError. */
export class WordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WordError';
  }
}

export interface Expansion {
  value: string;
  /** Every variable the word refers to, in order of first use. */
  variables: string[];
}

/** Returns the variable's value, or undefined when it is not set (unset and empty differ for `${X-d}`). */
export type Lookup = (name: string) => string | undefined;

export function expandWord(word: string, escape: string, lookup: Lookup): Expansion {
  const scanner = new WordScanner(word, escape, lookup);
  const value = scanner.readUntil(undefined, false);
  return { value, variables: [...scanner.variables] };
}

/** Whether a word refers to any variable (BuildKit refuses those in `--from`). */
export function refersToVariable(word: string, escape: string): boolean {
  return expandWord(word, escape, () => undefined).variables.length > 0;
}

/**
 * A flag's value as BuildKit's flag extractor leaves it: quotes removed, the escape character taking
 * the next character literally. (BuildKit may expand variables in the result afterwards.)
 */
export function unquoteFlagValue(raw: string, escape: string): string {
  let out = '';
  let quote: string | undefined;
  for (let i = 0; i < raw.length; i++) {
    let ch = raw.charAt(i);
    if (quote === undefined && (ch === '"' || ch === "'")) {
      quote = ch;
      continue;
    }
    if (quote !== undefined && ch === quote) {
      quote = undefined;
      continue;
    }
    if (ch === escape) {
      if (i + 1 === raw.length) continue;
      ch = raw.charAt(++i);
    }
    out += ch;
  }
  return out;
}

/** The comma-separated fields of a `--mount` value; a field may be double-quoted, with `""` for a quote. */
export function splitCsvFields(value: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (value.charAt(i) === '"') {
      i++;
      for (;;) {
        if (i >= value.length) throw new WordError(`unterminated quote in ${JSON.stringify(value)}`);
        const ch = value.charAt(i++);
        if (ch !== '"') field += ch;
        else if (value.charAt(i) === '"') field += value.charAt(i++);
        else break;
      }
      if (i < value.length && value.charAt(i) !== ',') {
        throw new WordError(`unexpected text after a quoted field in ${JSON.stringify(value)}`);
      }
    } else {
      const comma = value.indexOf(',', i);
      const end = comma < 0 ? value.length : comma;
      field = value.slice(i, end);
      i = end;
    }
    fields.push(field);
    if (i >= value.length) return fields;
    i++; // the comma
  }
}

const SPECIAL_PARAMETERS = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);
const NAME_CHAR = /^[\p{L}\p{Nd}_]$/u;
const DIGIT = /^[0-9]$/;

class WordScanner {
  private pos = 0;
  readonly variables = new Set<string>();

  constructor(
    private readonly src: string,
    private readonly escape: string,
    private readonly lookup: Lookup,
  ) {}

  /**
   * Reads up to `stop` (consumed) or the end. With `rawEscapes`, escape characters are kept, as
   * BuildKit does for `#`/`%`/`/` patterns so that `\*` stays a literal star.
   */
  readUntil(stop: string | undefined, rawEscapes: boolean): string {
    let out = '';
    while (this.pos < this.src.length) {
      const ch = this.src.charAt(this.pos);
      if (ch === stop) {
        this.pos++;
        return out;
      }
      if (ch === '$') out += this.readDollar();
      else if (ch === "'") out += this.readSingleQuoted();
      else if (ch === '"') out += this.readDoubleQuoted(rawEscapes);
      else out += this.readPlainChar(rawEscapes);
    }
    if (stop !== undefined) throw new WordError(`missing '${stop}'`);
    return out;
  }

  private readPlainChar(rawEscapes: boolean): string {
    const ch = this.src.charAt(this.pos++);
    if (ch !== this.escape) return ch;
    const kept = rawEscapes ? ch : '';
    if (this.pos >= this.src.length) return kept;
    return kept + this.src.charAt(this.pos++);
  }

  private readSingleQuoted(): string {
    const close = this.src.indexOf("'", this.pos + 1);
    if (close < 0) throw new WordError('unterminated single quote');
    const text = this.src.slice(this.pos + 1, close);
    this.pos = close + 1;
    return text;
  }

  private readDoubleQuoted(rawEscapes: boolean): string {
    this.pos++;
    let out = '';
    for (;;) {
      if (this.pos >= this.src.length) throw new WordError('unterminated double quote');
      const ch = this.src.charAt(this.pos);
      if (ch === '"') {
        this.pos++;
        return out;
      }
      if (ch === '$') {
        out += this.readDollar();
        continue;
      }
      this.pos++;
      if (ch !== this.escape) {
        out += ch;
        continue;
      }
      // Inside double quotes the escape character only escapes `"`, `$` and itself.
      if (rawEscapes) out += ch;
      const next = this.src.charAt(this.pos);
      if (next === '"' || next === '$' || next === this.escape) {
        out += next;
        this.pos++;
      } else if (next !== '') {
        out += ch;
      }
    }
  }

  private get(name: string): string | undefined {
    this.variables.add(name);
    return this.lookup(name);
  }

  private readDollar(): string {
    this.pos++;
    if (this.src.charAt(this.pos) !== '{') {
      const name = this.readName();
      return name === '' ? '$' : (this.get(name) ?? '');
    }
    this.pos++;
    const first = this.src.charAt(this.pos);
    if (first === '') throw new WordError(`missing '}' in ${JSON.stringify(this.src)}`);
    if (first === '{' || first === '}' || first === ':') throw new WordError(`bad substitution in ${JSON.stringify(this.src)}`);
    const name = this.readName();
    if (this.pos >= this.src.length) throw new WordError(`missing '}' after \${${name} in ${JSON.stringify(this.src)}`);
    const op = this.src.charAt(this.pos++);
    switch (op) {
      case '}':
        return this.get(name) ?? '';
      case ':': {
        const modifier = this.src.charAt(this.pos++);
        if (modifier === '-' || modifier === '+' || modifier === '?') return this.applyModifier(name, modifier, true);
        throw new WordError(`unsupported modifier (:${modifier}) in \${${name}...}`);
      }
      case '-':
      case '+':
      case '?':
      case '#':
      case '%':
        return this.applyModifier(name, op, false);
      case '/':
        return this.applyReplace(name);
      default:
        throw new WordError(`unsupported modifier (${op}) in \${${name}...}`);
    }
  }

  private readWordUntilBrace(name: string, rawEscapes: boolean): string {
    try {
      return this.readUntil('}', rawEscapes);
    } catch (err) {
      if (err instanceof WordError && this.pos >= this.src.length) {
        throw new WordError(`missing '}' after \${${name} in ${JSON.stringify(this.src)}`);
      }
      throw err;
    }
  }

  private applyModifier(name: string, op: string, emptyIsUnset: boolean): string {
    const value = this.get(name);
    const word = this.readWordUntilBrace(name, op === '#' || op === '%');
    const missing = value === undefined || (emptyIsUnset && value === '');
    switch (op) {
      case '-':
        return missing ? word : (value ?? '');
      case '+':
        return missing ? '' : word;
      case '?':
        if (value === undefined) throw new WordError(`${name}: ${word || 'is not allowed to be unset'}`);
        if (missing) throw new WordError(`${name}: ${word || 'is not allowed to be empty'}`);
        return value;
      default: {
        const longest = word.startsWith(op);
        const pattern = compileGlob(longest ? word.slice(1) : word);
        return op === '#' ? trimPrefix(value ?? '', pattern, longest) : trimSuffix(value ?? '', pattern, longest);
      }
    }
  }

  private applyReplace(name: string): string {
    const value = this.get(name) ?? '';
    const all = this.src.charAt(this.pos) === '/';
    if (all) this.pos++;
    let pattern: string;
    try {
      pattern = this.readUntil('/', true);
    } catch (err) {
      if (err instanceof WordError && this.pos >= this.src.length) {
        throw new WordError(`missing '/' in \${${name}/...} in ${JSON.stringify(this.src)}`);
      }
      throw err;
    }
    const replacement = this.readWordUntilBrace(name, true);
    return replaceGlob(value, compileGlob(pattern), replacement, all);
  }

  /** A variable name; like sh, a leading digit means only digits, and special parameters are one character. */
  private readName(): string {
    const start = this.pos;
    const first = this.src.charAt(start);
    if (DIGIT.test(first)) {
      while (DIGIT.test(this.src.charAt(this.pos))) this.pos++;
      return this.src.slice(start, this.pos);
    }
    if (SPECIAL_PARAMETERS.has(first)) {
      this.pos++;
      return first;
    }
    while (this.pos < this.src.length && NAME_CHAR.test(this.src.charAt(this.pos))) this.pos++;
    return this.src.slice(start, this.pos);
  }
}

type GlobToken = { kind: 'star' } | { kind: 'any' } | { kind: 'char'; ch: string };

/** A shell pattern (`*`, `?`, backslash escapes; no brackets, as in BuildKit). */
function compileGlob(pattern: string): GlobToken[] {
  const tokens: GlobToken[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern.charAt(i);
    if (ch === '*') tokens.push({ kind: 'star' });
    else if (ch === '?') tokens.push({ kind: 'any' });
    else if (ch !== '\\') tokens.push({ kind: 'char', ch });
    else {
      const next = pattern.charAt(i + 1);
      // `\}` and `\/` only protect the ${} syntax; the character itself is then literal.
      if (next === '}' || next === '/') continue;
      if (next !== '*' && next !== '?' && next !== '\\') throw new WordError(`invalid escape '\\${next}' in pattern ${JSON.stringify(pattern)}`);
      tokens.push({ kind: 'char', ch: next });
      i++;
    }
  }
  return tokens;
}

/** Whether the whole of `text` matches the pattern. */
function globMatches(tokens: GlobToken[], text: string): boolean {
  let t = 0;
  let p = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    const token = tokens[p];
    if (token && (token.kind === 'any' || (token.kind === 'char' && token.ch === text.charAt(t)))) {
      p++;
      t++;
    } else if (token?.kind === 'star') {
      starP = p++;
      starT = t;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (tokens[p]?.kind === 'star') p++;
  return p === tokens.length;
}

function trimPrefix(value: string, pattern: GlobToken[], longest: boolean): string {
  for (let k = 0; k <= value.length; k++) {
    const end = longest ? value.length - k : k;
    if (globMatches(pattern, value.slice(0, end))) return value.slice(end);
  }
  return value;
}

function trimSuffix(value: string, pattern: GlobToken[], longest: boolean): string {
  for (let k = 0; k <= value.length; k++) {
    const start = longest ? k : value.length - k;
    if (globMatches(pattern, value.slice(start))) return value.slice(0, start);
  }
  return value;
}

/** `${X/pattern/replacement}`: the leftmost, then longest, match; with `//`, every non-overlapping one. */
function replaceGlob(value: string, pattern: GlobToken[], replacement: string, all: boolean): string {
  let out = '';
  let pos = 0;
  while (pos <= value.length) {
    const match = findMatch(value, pattern, pos);
    if (!match) break;
    out += value.slice(pos, match.start) + replacement;
    if (!all) return out + value.slice(match.end);
    if (match.end === match.start) {
      out += value.charAt(match.end);
      pos = match.end + 1;
    } else {
      pos = match.end;
    }
  }
  return out + value.slice(pos);
}

function findMatch(value: string, pattern: GlobToken[], from: number): { start: number; end: number } | undefined {
  for (let start = from; start <= value.length; start++) {
    for (let end = value.length; end >= start; end--) {
      if (globMatches(pattern, value.slice(start, end))) return { start, end };
    }
  }
  return undefined;
}
