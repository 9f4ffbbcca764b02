/**
 * The ignore file a build applies: BuildKit's `<Dockerfile>.dockerignore` next to the Dockerfile
 * when present, else `.dockerignore` at the context root.
 *
 * Patterns mean exactly what they mean to BuildKit, which reads them with moby/patternmatcher's
 * ignorefile.ReadAll and applies them with MatchesUsingParentResults while it walks the context
 * (tonistiigi/fsutil): `!` exceptions, `**`, a leading `/` meaning the context root, cleaned paths,
 * case-sensitive as on Linux, and patternmatcher's own shortcuts (`**` first is a suffix test, `x/**`
 * a prefix test). Each pattern is turned into the same regular expression patternmatcher builds, and
 * matched with re2js, a port of RE2 (Go's engine), so matching takes time linear in the path whatever
 * the pattern: JavaScript's backtracking engine took minutes on `*a*a*a...` against a long name.
 */
import { lstatSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { RE2JS } from 're2js';
import { InputError } from '../errors.js';
import { DOCKER_LINE_MAX_BYTES, firstOverlongLine } from '../limit.js';
import { isWithin } from '../paths.js';
import { displayPath, errorCode } from './paths.js';

export interface IgnoreRules {
  /**
   * Whether `rel` (context-relative, POSIX, as a walk from the root meets it) is left out of the
   * context. Parents are looked up (and remembered) before their children, as BuildKit's walk does.
   */
  ignores(rel: string): boolean;
  /** Some pattern starts with `!`, so an excluded folder may still contribute files. */
  hasExceptions: boolean;
}

/** The largest ignore file read (real ones are a few KB); a larger one is hostile input. */
export const IGNORE_FILE_MAX_BYTES = 1024 * 1024;

/**
 * The rules a build of `dockerfile` applies: its ignore file's, then `extra` lines (imagewright's
 * own files, see own.ts), which come last so that no `!` exception of the ignore file brings them back.
 */
export function loadIgnoreRules(root: string, dockerfile: string, extra: readonly string[] = []): { file?: string; rules: IgnoreRules } | undefined {
  for (const file of [`${dockerfile}.dockerignore`, path.join(root, '.dockerignore')]) {
    const text = readIfPresent(file, root);
    if (text !== undefined) return { file, rules: parseIgnore(extra.length ? `${text}\n${extra.join('\n')}` : text, displayPath(file)) };
  }
  return extra.length ? { rules: parseIgnore(extra.join('\n')) } : undefined;
}

/** Rules from an ignore file's text; `shown` names the file in messages. */
export function parseIgnore(text: string, shown = '.dockerignore'): IgnoreRules {
  const patterns = readPatterns(text, shown);
  return new PatternMatcher(patterns);
}

/**
 * Whether a context-relative POSIX path matches one of `patterns` (ignore-file syntax, a matched
 * folder covering everything below it), the way BuildKit's include patterns choose what of a context
 * to send. `ignoreCase` for Windows contexts. Throws InputError naming `shown` on a malformed pattern.
 */
export function patternMatcher(patterns: readonly string[], ignoreCase: boolean, shown: string): (rel: string) => boolean {
  const fold = (s: string): string => (ignoreCase ? s.toLowerCase() : s);
  const rules = parseIgnore(patterns.map(fold).join('\n'), shown);
  return (rel) => rules.ignores(fold(rel));
}

interface Pattern {
  exclusion: boolean;
  matches(rel: string): boolean;
}

/** moby/patternmatcher's ignorefile.ReadAll and New: one pattern per meaningful line. */
function readPatterns(text: string, shown: string): Pattern[] {
  const patterns: Pattern[] = [];
  const overlong = firstOverlongLine(Buffer.from(text));
  if (overlong !== undefined) throw new InputError(shown, `line ${overlong}`, `line is longer than ${DOCKER_LINE_MAX_BYTES} bytes (Docker cannot read it either)`);
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const fail = (problem: string): InputError => new InputError(shown, `line ${index + 1}`, problem);
    // bufio.ScanLines drops one carriage return before the newline.
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (index === 0 && line.startsWith('\uFEFF')) line = line.slice(1);
    if (line.startsWith('#')) return;
    let pattern = line.trim();
    if (pattern === '') return;
    const invert = pattern.startsWith('!');
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    if (invert) pattern = `!${pattern}`;
    // patternmatcher.New cleans once more and takes the `!` off.
    pattern = cleanPath(pattern.trim());
    let exclusion = false;
    if (pattern.startsWith('!')) {
      if (pattern.length === 1) throw fail('"!" alone is not a pattern (Docker refuses it too)');
      exclusion = true;
      pattern = pattern.slice(1);
    }
    const syntax = globSyntaxError(pattern);
    if (syntax) throw fail(`invalid pattern: ${syntax}`);
    const matches = compile(pattern);
    if (typeof matches === 'string') throw fail(`invalid pattern: ${matches}`);
    patterns.push({ exclusion, matches });
  });
  return patterns;
}

/** Go's filepath.Clean for slash-separated paths. */
function cleanPath(p: string): string {
  const normalized = path.posix.normalize(p);
  return normalized.length > 1 && normalized.endsWith('/') ? normalized.slice(0, -1) : normalized;
}

/**
 * Why Go's filepath.Match would call `pattern` malformed (patternmatcher.New asks it), or undefined.
 * The grammar: `*`, `?`, `\c`, `[` [`^`] ranges `]` with at least one range of `c` or `c-c`.
 */
function globSyntaxError(pattern: string): string | undefined {
  const chars = [...pattern];
  let i = 0;
  const classChar = (): boolean => {
    const c = chars[i];
    if (c === undefined || c === '-' || c === ']') return false;
    if (c === '\\') i++;
    if (chars[i] === undefined) return false;
    i++;
    return chars[i] !== undefined;
  };
  while (i < chars.length) {
    const c = chars[i];
    if (c === '\\') {
      if (i + 1 >= chars.length) return 'it ends in a lone backslash';
      i += 2;
    } else if (c === '[') {
      i++;
      if (chars[i] === '^') i++;
      for (let ranges = 0; ; ranges++) {
        if (chars[i] === ']' && ranges > 0) {
          i++;
          break;
        }
        if (!classChar()) return 'a character class ([...]) is empty, unclosed or has a bad range';
        if (chars[i] === '-') {
          i++;
          if (!classChar()) return 'a character class ([...]) is empty, unclosed or has a bad range';
        }
      }
    } else {
      i++;
    }
  }
  return undefined;
}

/** Regular-expression characters with no meaning in a file pattern (patternmatcher's shouldEscape). */
const REGEX_ONLY = new Set(['.', '+', '(', ')', '|', '{', '}', '$']);

/**
 * patternmatcher's Pattern.compile, character for character, with `/` as the separator: a plain
 * comparison where the pattern allows one, else the regular expression it builds, run by RE2.
 * Returns the engine's complaint when that expression does not compile (Docker fails the build then).
 */
function compile(cleaned: string): ((rel: string) => boolean) | string {
  type Kind = 'exact' | 'prefix' | 'suffix' | 'regexp';
  let kind: Kind = 'exact';
  let source = '^';
  const chars = [...cleaned];
  for (let i = 0, at = 0; at < chars.length; i++) {
    const c = chars[at++] as string;
    if (c === '*') {
      if (chars[at] === '*') {
        at++;
        // `**/` is `**`.
        if (chars[at] === '/') at++;
        if (at >= chars.length) {
          // A trailing `**` accepts everything below, as in .gitignore.
          if (kind === 'exact') {
            kind = 'prefix';
          } else {
            source += '.*';
            kind = 'regexp';
          }
        } else {
          // Any number of folders, none included.
          source += '(.*/)?';
          kind = 'regexp';
        }
        if (i === 0) kind = 'suffix';
      } else {
        source += '[^/]*';
        kind = 'regexp';
      }
    } else if (c === '?') {
      source += '[^/]';
      kind = 'regexp';
    } else if (REGEX_ONLY.has(c)) {
      source += `\\${c}`;
    } else if (c === '\\') {
      if (at < chars.length) {
        source += `\\${chars[at++] as string}`;
        kind = 'regexp';
      } else {
        source += '\\';
      }
    } else if (c === '[' || c === ']') {
      source += c;
      kind = 'regexp';
    } else {
      source += c;
    }
  }
  switch (kind) {
    case 'exact':
      return (rel) => rel === cleaned;
    case 'prefix': {
      const prefix = cleaned.slice(0, -2);
      return (rel) => rel.startsWith(prefix);
    }
    case 'suffix': {
      const suffix = cleaned.slice(2);
      // `**/foo` also matches `foo` itself.
      return (rel) => rel.endsWith(suffix) || (suffix.startsWith('/') && rel === suffix.slice(1));
    }
    case 'regexp': {
      let expression: RE2JS;
      try {
        expression = RE2JS.compile(`${source}$`);
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
      return (rel) => expression.test(rel);
    }
  }
}

/**
 * MatchesUsingParentResults as BuildKit's walk calls it: each pattern remembers whether it matched a
 * folder, and a folder's result carries over to everything inside it.
 */
class PatternMatcher implements IgnoreRules {
  readonly hasExceptions: boolean;
  /** Per folder, which patterns matched it (or a folder above it). */
  readonly #folders = new Map<string, boolean[]>();

  constructor(private readonly patterns: readonly Pattern[]) {
    this.hasExceptions = patterns.some((p) => p.exclusion);
  }

  ignores(rel: string): boolean {
    return this.#evaluate(rel, this.#folder(parentOf(rel))).matched;
  }

  #folder(rel: string): boolean[] | undefined {
    if (rel === '') return undefined;
    let matched = this.#folders.get(rel);
    if (!matched) {
      matched = this.#evaluate(rel, this.#folder(parentOf(rel))).each;
      this.#folders.set(rel, matched);
    }
    return matched;
  }

  #evaluate(rel: string, parent: boolean[] | undefined): { matched: boolean; each: boolean[] } {
    let matched = false;
    const each = this.patterns.map((pattern, i) => {
      let match = parent?.[i] ?? false;
      if (!match) {
        // An inclusion once matched, or an exception before anything matched, changes nothing.
        if (pattern.exclusion !== matched) return false;
        match = pattern.matches(rel);
      }
      if (match) matched = !pattern.exclusion;
      return match;
    });
    return { matched, each };
  }
}

function parentOf(rel: string): string {
  const slash = rel.lastIndexOf('/');
  return slash < 0 ? '' : rel.slice(0, slash);
}

/**
 * The ignore file's text, or undefined when there is none. A symbolic link is followed only while it
 * stays inside the build context (BuildKit cannot see past it), and only a regular file of a bounded
 * size is read: a FIFO or /dev/zero would be read without end.
 */
function readIfPresent(file: string, root: string): string | undefined {
  const shown = displayPath(file);
  try {
    // Probing without an exception: most folders have no per-Dockerfile ignore file, and thrown errors are slow.
    const link = lstatSync(file, { throwIfNoEntry: false });
    if (!link) return undefined;
    if (link.isSymbolicLink()) {
      if (!isWithin(realpathSync.native(root), realpathSync.native(file))) {
        throw new InputError(shown, undefined, 'ignore file is a symbolic link leading outside the build context');
      }
    }
    const stat = link.isSymbolicLink() ? lstatSync(realpathSync.native(file)) : link;
    if (!stat.isFile()) throw new InputError(shown, undefined, 'ignore file is not a regular file');
    if (stat.size > IGNORE_FILE_MAX_BYTES) throw new InputError(shown, undefined, `ignore file is larger than ${IGNORE_FILE_MAX_BYTES} bytes`);
    return readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof InputError) throw error;
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new InputError(shown, undefined, `cannot read ignore file (${code ?? String(error)})`);
  }
}
