/**
 * The ignore file a build applies: BuildKit's `<Dockerfile>.dockerignore` next to the Dockerfile
 * when present, else `.dockerignore` at the context root. Patterns follow Docker's semantics
 * (matched by @balena/dockerignore, a port of Docker's own matcher): `!` exceptions, `**`,
 * a leading `/` meaning the context root, case-sensitive as on Linux.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import dockerignore from '@balena/dockerignore';
import { InputError } from '../errors.js';
import { displayPath, errorCode } from './paths.js';

export interface IgnoreRules {
  /** Whether `rel` (context-relative, POSIX) is left out of the context. */
  ignores(rel: string): boolean;
  /** Some pattern starts with `!`, so an excluded folder may still contribute files. */
  hasExceptions: boolean;
}

export function loadIgnoreRules(root: string, dockerfile: string): { file: string; rules: IgnoreRules } | undefined {
  for (const file of [`${dockerfile}.dockerignore`, path.join(root, '.dockerignore')]) {
    const text = readIfPresent(file);
    if (text !== undefined) return { file, rules: parseIgnore(text) };
  }
  return undefined;
}

export function parseIgnore(text: string): IgnoreRules {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  // The package is CommonJS; under NodeNext its default export is reached through `.default`.
  const matcher = dockerignore.default({ ignorecase: false }).add(lines);
  return {
    ignores: (rel) => matcher.ignores(rel),
    hasExceptions: lines.some((line) => line.trim().startsWith('!')),
  };
}

function readIfPresent(file: string): string | undefined {
  // Probing without an exception: most folders have no per-Dockerfile ignore file, and thrown errors are slow.
  try {
    if (!statSync(file, { throwIfNoEntry: false })) return undefined;
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new InputError(displayPath(file), undefined, `cannot read ignore file (${code ?? String(error)})`);
  }
}
