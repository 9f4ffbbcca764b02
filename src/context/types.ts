/** The build context's content, as it enters a build key. */
export interface ContextHash {
  /** sha256 over the sorted (path, mode, content digest) entries. */
  digest: string;
  /**
   * Per-file digests keyed by POSIX path relative to the context folder, after `.dockerignore`,
   * without the platform's own Dockerfile and `.dockerignore` (they enter the key on their own).
   * Value: `sha256:<hex>` of the bytes, suffixed `+x` for executables; symlinks are `link:<target>`.
   */
  files: Record<string, string>;
}
