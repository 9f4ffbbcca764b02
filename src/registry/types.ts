/** The registry's read side as the rest of imagewright sees it. */
import type { TargetPlatform } from '../platform.js';
import type { ResolvedImage } from '../reference.js';

export type { ResolvedImage } from '../reference.js';

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
