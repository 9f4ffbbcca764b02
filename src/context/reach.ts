/**
 * Which files of a context a Dockerfile's sources reach (DockerfileAnalysis.context), the way BuildKit
 * resolves `COPY`/`ADD` sources: a path names a file or a folder with everything in it, wildcards
 * (`*`, `?`, `[...]`) match within one path segment, and `.dockerignore` applies on top. Sources are
 * matched with the same matcher as ignore files (Docker's pattern rules, where a matched folder takes
 * everything below it).
 */
import { lstatSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import type { ContextSource } from '../dockerfile/types.js';
import { InputError } from '../errors.js';
import { patternMatcher } from './ignore.js';
import { toPosix } from './paths.js';

export interface Reach {
  /** Whether `rel` (a file, context-relative POSIX) is read by some source. */
  reaches(rel: string): boolean;
  /** Whether the walk must enter folder `rel`: some source may reach below it. */
  mayEnter(rel: string): boolean;
}

/** A source that reaches no file of the context when `plan` runs: the build would fail on it. */
export interface MissingSource {
  source: ContextSource;
  /** `absent`: no such path; `ignored`: the ignore file leaves it out. */
  why: 'absent' | 'ignored';
}

const WILDCARD = /[*?[\\]/;

/** Everything, when a source is the whole context; else what the sources (and top-level symlinks they name) reach. */
export function sourceReach(root: string, sources: readonly ContextSource[], ignoreCase: boolean): Reach {
  const paths = withSymlinkTargets(root, sources.map((s) => s.path));
  if (paths.includes('')) return { reaches: () => true, mayEnter: () => true };
  const matcher = sourceMatcher(paths, ignoreCase);
  // A source BuildKit cannot read as a pattern fails the build; until it is fixed, everything counts.
  if (!matcher) return { reaches: () => true, mayEnter: () => true };
  // The literal folders before a source's first wildcard segment: the walk need not leave them.
  const prefixes = paths.map((p) => literalPrefix(p));
  const fold = ignoreCase ? (s: string): string => s.toLowerCase() : (s: string): string => s;
  return {
    reaches: (rel) => matcher(rel),
    mayEnter: (rel) => {
      const dir = fold(rel);
      return prefixes.some((prefix) => {
        const p = fold(prefix);
        return p === '' || p === dir || p.startsWith(`${dir}/`) || dir.startsWith(`${p}/`);
      });
    },
  };
}

/** Sources that reach none of `files` (the context's files after the ignore file). */
export function missingSources(root: string, sources: readonly ContextSource[], files: readonly string[], ignoreCase: boolean): MissingSource[] {
  const missing: MissingSource[] = [];
  for (const source of sources) {
    if (source.path === '') continue;
    const matcher = sourceMatcher([source.path], ignoreCase);
    if (!matcher || files.some((f) => matcher(f))) continue;
    if (WILDCARD.test(source.path)) {
      missing.push({ source, why: 'absent' });
      continue;
    }
    const stats = lstatSync(path.join(root, ...source.path.split('/')), { throwIfNoEntry: false });
    // A folder that holds no file (or only ignored ones) is copied empty: BuildKit does not fail on it.
    if (stats?.isDirectory()) continue;
    missing.push({ source, why: stats ? 'ignored' : 'absent' });
  }
  return missing;
}

/**
 * BuildKit follows a source that is itself a symlink (its include paths follow links), so the target
 * is read too. Targets outside the context are not transferred; chains are followed a few steps.
 */
function withSymlinkTargets(root: string, paths: readonly string[]): string[] {
  const all = [...paths];
  for (let i = 0; i < all.length && i < paths.length + 64; i++) {
    const rel = all[i] as string;
    if (rel === '' || WILDCARD.test(rel)) continue;
    const abs = path.join(root, ...rel.split('/'));
    const stats = lstatSync(abs, { throwIfNoEntry: false });
    if (!stats?.isSymbolicLink()) continue;
    const target = path.resolve(path.dirname(abs), readlinkSync(abs));
    const inside = path.relative(root, target);
    if (inside.split(path.sep)[0] === '..' || path.isAbsolute(inside)) continue;
    const posix = toPosix(inside);
    if (!all.includes(posix)) all.push(posix);
  }
  return all;
}

function sourceMatcher(paths: readonly string[], ignoreCase: boolean): ((rel: string) => boolean) | undefined {
  try {
    return patternMatcher(paths, ignoreCase, 'COPY sources');
  } catch (error) {
    if (error instanceof InputError) return undefined;
    throw error;
  }
}

function literalPrefix(pattern: string): string {
  const segments = pattern.split('/');
  const firstWild = segments.findIndex((s) => WILDCARD.test(s));
  return (firstWild < 0 ? segments : segments.slice(0, firstWild)).join('/');
}
