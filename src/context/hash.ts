/**
 * Hashing a build context the way BuildKit sends it: the folder's files after the ignore file that
 * the Dockerfile's sources reach (reach.ts; all of them when the analysis says so), never
 * imagewright's own files (own.ts).
 *
 * Recorded per file: POSIX relative path, sha256 of the content, the executable bit, and for
 * symlinks the target (never followed). Not recorded: mtimes, owners and mode bits other than
 * executable, because two checkouts of the same commit differ in them, and a key that followed them
 * would rebuild on every fresh clone. Empty folders are not recorded either: `COPY` does create them,
 * but git cannot carry them, so counting them would make keys depend on a checkout's history.
 * Sockets, fifos and devices are skipped: they have no content to hash.
 */
import { createReadStream, lstatSync, readdirSync, readFileSync, readlinkSync, type BigIntStats } from 'node:fs';
import path from 'node:path';
import { composedDigest, sha256Digest, sha256Stream } from '../digest.js';
import { InputError } from '../errors.js';
import { loadIgnoreRules, type IgnoreRules } from './ignore.js';
import type { ContextUse } from '../dockerfile/types.js';
import { ownFilePatterns } from './own.js';
import { missingSources, sourceReach, type Reach } from './reach.js';
import { displayPath, errorCode, toPosix } from './paths.js';
import { Semaphore } from '../limit.js';
import type { ContextHash } from './types.js';

/** Large files streamed at once, across every context hashed in this process. */
const ioLimit = new Semaphore(16);
/** Files up to this size are read whole, synchronously; larger ones are streamed through the hash. */
const WHOLE_READ_MAX = 256 * 1024;

/**
 * Content of files already hashed in this process, keyed by absolute path. An entry is reused only
 * while the file's identity, size, mode and change times are the same, so many platforms sharing a
 * folder read each file once, and an edited file is read again.
 */
const entryCache = new Map<string, { stamp: string; value: Promise<string | undefined> | string | undefined }>();

/** Forget every remembered file digest (for long-running processes and tests). */
export function clearContextCache(): void {
  entryCache.clear();
}

export interface HashOptions {
  /** The image-info files of this run: with their siblings, they are left out (see own.ts). */
  imageInfoFiles?: readonly string[];
  /** What the Dockerfile reads of its context (DockerfileAnalysis.context); undefined: all of it. */
  use?: ContextUse;
  /** Match sources whatever their case (a Windows build). */
  ignoreCase?: boolean;
}

/** The content of `contextDir` as a build with `dockerfilePath` would send it; see ContextHash. */
export async function hashContext(contextDir: string, dockerfilePath: string, options: HashOptions = {}): Promise<ContextHash> {
  const root = path.resolve(contextDir);
  const dockerfile = path.resolve(dockerfilePath);
  const ownFiles = ownFilePatterns(root, options.imageInfoFiles ?? []);
  const ignore = loadIgnoreRules(root, dockerfile, ownFiles);
  const ownDockerfile = toPosix(path.relative(root, dockerfile));
  const sources = options.use?.kind === 'sources' ? options.use.sources : undefined;
  const reach = sources ? sourceReach(root, sources, options.ignoreCase ?? false) : undefined;
  const listed = listContext(root, ignore?.rules, reach);
  const paths = listed.filter((rel) => rel !== ownDockerfile && (reach?.reaches(rel) ?? true));
  const values = await Promise.all(paths.map((rel) => entryValue(path.join(root, ...rel.split('/')))));
  const entries: [string, string][] = [];
  paths.forEach((rel, i) => {
    const value = values[i];
    if (value !== undefined) entries.push([rel, value]);
  });
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const result: ContextHash = {
    digest: contextDigest(entries),
    files: Object.fromEntries(entries),
    ownFiles,
  };
  if (ignore?.file) result.ignoreFile = toPosix(path.relative(root, ignore.file));
  if (options.use?.kind === 'whole') result.whole = options.use.reason;
  const missing = sources ? missingSources(root, sources, listed, options.ignoreCase ?? false) : [];
  if (missing.length > 0) result.missing = missing;
  return result;
}

/**
 * Bump when what enters the context digest or how it is serialized changes. The context digest enters
 * every build key, so a bump here is a key format change too: bump BUILD_KEY_VERSION (src/build-key.ts)
 * with it. The golden test in test/unit/plan-key.test.ts pins both.
 *   1: (path, entry value) pairs sorted by path, every file of the context.
 *   2: the same pairs, of the files the Dockerfile's COPY/ADD/bind-mount sources reach (the whole
 *      context only where a source is known at build time); imagewright's own files never.
 */
export const CONTEXT_DIGEST_VERSION = 2;

/** The digest of a context's (path, value) entries, sorted by path (see ContextHash.digest). */
export function contextDigest(entries: ReadonlyArray<readonly [string, string]>): string {
  return composedDigest('context', CONTEXT_DIGEST_VERSION, entries);
}

/**
 * Context-relative POSIX paths of the files and symlinks the ignore rules leave in.
 * Listing and stat calls are synchronous on purpose: for the many small calls a walk makes they cost
 * microseconds, where each asynchronous call pays a thread-pool round trip that dominates small contexts.
 */
function listContext(root: string, rules: IgnoreRules | undefined, reach: Reach | undefined): string[] {
  const found: string[] = [];
  const visit = (relDir: string): void => {
    const absDir = relDir ? path.join(root, ...relDir.split('/')) : root;
    let entries;
    try {
      entries = readdirSync(absDir, { withFileTypes: true });
    } catch (error) {
      throw unreadable(absDir, error, relDir === '' ? 'build context folder' : 'folder');
    }
    for (const entry of entries) {
      const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
      const ignored = rules?.ignores(rel) ?? false;
      if (entry.isDirectory()) {
        // An excluded folder still has to be walked when an exception (`!`) may bring back part of it.
        if ((!ignored || rules?.hasExceptions) && (reach?.mayEnter(rel) ?? true)) visit(rel);
      } else if (!ignored && (entry.isFile() || entry.isSymbolicLink())) {
        found.push(rel);
      }
    }
  };
  visit('');
  return found;
}

/** `sha256:<hex>[+x]` for a file, `link:<target>` for a symlink; undefined when it vanished or became something else. */
function entryValue(abs: string): Promise<string | undefined> | string | undefined {
  let stats;
  try {
    stats = lstatSync(abs, { bigint: true });
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw unreadable(abs, error, 'file');
  }
  const stamp = `${stats.dev}:${stats.ino}:${stats.mode}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`;
  const cached = entryCache.get(abs);
  if (cached?.stamp === stamp) return cached.value;
  let value: Promise<string | undefined> | string | undefined;
  try {
    value = readEntry(abs, stats);
  } catch (error) {
    throw unreadable(abs, error, 'file');
  }
  if (value instanceof Promise) {
    value = value.catch((error: unknown) => {
      entryCache.delete(abs);
      throw unreadable(abs, error, 'file');
    });
  }
  entryCache.set(abs, { stamp, value });
  return value;
}

function readEntry(abs: string, stats: BigIntStats): Promise<string> | string | undefined {
  if (stats.isSymbolicLink()) return `link:${readlinkSync(abs)}`;
  if (!stats.isFile()) return undefined;
  const suffix = (stats.mode & 0o111n) !== 0n ? '+x' : '';
  if (stats.size <= WHOLE_READ_MAX) return `${sha256Digest(readFileSync(abs))}${suffix}`;
  return streamDigest(abs).then((digest) => `${digest}${suffix}`);
}

function streamDigest(abs: string): Promise<string> {
  return ioLimit.run(async () => {
    const hash = sha256Stream();
    for await (const chunk of createReadStream(abs)) hash.update(chunk as Buffer);
    return hash.digest();
  });
}

function unreadable(abs: string, error: unknown, what: string): InputError {
  if (error instanceof InputError) return error;
  const code = errorCode(error);
  const problem =
    code === 'ENOENT' ? `${what} not found` : code === 'ENOTDIR' ? `${what} is not a folder` : `cannot read ${what} (${code ?? String(error)})`;
  return new InputError(displayPath(abs), undefined, problem);
}
