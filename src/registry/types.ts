/** The registry's read side as the rest of imagewright sees it. */
import type { TargetPlatform } from '../platform.js';

export interface ResolvedImage {
  /** The normalized reference that was resolved, e.g. `127.0.0.1:5000/base/busybox:1`. */
  ref: string;
  /** Digest of the per-platform image manifest: the one to compare. */
  digest: string;
  /** Digest of the index (manifest list) the platform entry was picked from, when the tag names an index. */
  indexDigest?: string;
  /** Media type of the per-platform manifest. */
  mediaType: string;
}

/**
 * What planning needs from a registry. Implementations resolve each distinct (reference, platform)
 * once per instance, and throw `RegistryAuthError` for 401/403 (never treated as a miss).
 */
export interface RegistryReader {
  /** Resolve a tag or digest reference to the per-platform digest. Throws `ImageNotFoundError` on 404. */
  resolve(ref: string, platform: TargetPlatform): Promise<ResolvedImage>;
  /** Whether `repository@digest` exists (HEAD). false on 404; throws on auth and other errors. */
  exists(ref: string): Promise<boolean>;
  /** Number of HTTP requests sent so far (for benchmarks). */
  readonly requestCount: number;
}
