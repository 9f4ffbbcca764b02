import type { MissingSource } from './reach.js';

/** The build context's content, as it enters a build key. */
export interface ContextHash {
  /** `sha256:<hex>` over the sorted (path, value) entries of `files`, with a format tag (see contextDigest). */
  digest: string;
  /**
   * Per-file digests keyed by POSIX path relative to the context folder, after the ignore file,
   * without the platform's own Dockerfile (it enters the key on its own).
   * Value: `sha256:<hex>` of the bytes, suffixed `+x` for executables; symlinks are `link:<target>`.
   *
   * The ignore file in effect (`.dockerignore` or `<Dockerfile>.dockerignore`) is listed like any
   * other file when its own patterns leave it in the context: `COPY .` then copies it, so its bytes
   * can reach the image. When it excludes itself, only its effect (which files are listed) counts.
   * Empty folders are not represented.
   */
  files: Record<string, string>;
  /**
   * Ignore patterns for imagewright's own files (see own.ts), applied after the ignore file. The
   * build's ignore file gets the same lines, so the engine receives what was hashed.
   */
  ownFiles?: string[];
  /**
   * Why the whole context is keyed although the Dockerfile reads only part of it: a source is known
   * only when the build runs (`line N: COPY $X: …`). Undefined when the files are what its sources reach.
   */
  whole?: string;
  /** Sources that reach nothing in the context now (a file the pipeline stages before building, or a mistake). */
  missing?: MissingSource[];
  /** Context-relative POSIX path of the ignore file that was applied, if any (for messages). */
  ignoreFile?: string;
}
