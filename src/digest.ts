/**
 * sha256 digests in the OCI form `sha256:<64 hex>`: every digest imagewright computes, and the digest
 * part of a `<registry>/<repo>@sha256:…` reference. Pure; no I/O.
 */
import { createHash } from 'node:crypto';

const SHA256 = 'sha256:';

/** `sha256:<hex>` of the bytes (a string counts as its UTF-8 bytes). */
export function sha256Digest(data: string | Uint8Array): string {
  return `${SHA256}${createHash('sha256').update(data).digest('hex')}`;
}

/** A running sha256 over chunks, for content too large to hold at once. */
export interface Sha256Stream {
  update(chunk: Uint8Array): void;
  /** `sha256:<hex>` of every chunk so far; call once. */
  digest(): string;
}

export function sha256Stream(): Sha256Stream {
  const hash = createHash('sha256');
  return {
    update: (chunk) => void hash.update(chunk),
    digest: () => `${SHA256}${hash.digest('hex')}`,
  };
}

/** Whether `text` claims to be a sha256 digest (verification happens where the bytes are). */
export function isSha256(text: string): boolean {
  return text.startsWith(SHA256);
}

/**
 * `sha256:…` out of `<registry>/<repo>[:tag]@sha256:…`; a bare digest, or '', comes back as it is.
 * The last `@` counts: a registry host cannot hold one, and the digest always follows the name.
 */
export function digestOfReference(reference: string): string {
  return reference.slice(reference.lastIndexOf('@') + 1);
}

/** The hex part of a digest: `sha256:abc…` → `abc…`. */
export function digestHex(digest: string): string {
  return digest.startsWith(SHA256) ? digest.slice(SHA256.length) : digest;
}

/** `sha256:` and the first 12 hex digits, for people; `<repo>@sha256:…` loses its repo. '' reads as `none`. */
export function shortDigest(digest: string): string {
  if (!digest) return 'none';
  const bare = digestOfReference(digest);
  const colon = bare.indexOf(':');
  return colon >= 0 ? bare.slice(0, colon + 13) : bare.slice(0, 12);
}

/** JSON with object keys sorted at every level, so equal content serializes to equal bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
  }
  return value;
}

/**
 * A digest imagewright composes from structured data (a build key, a context digest): sha256 over a
 * format tag such as `imagewright.build-key.v2`, a newline, then the canonical JSON of `value`. The tag
 * keeps digests of different kinds or formats from ever being equal (BuildKit's `buildkit.exec.v0`); JSON
 * frames every field, so text cannot move from one field into the next without changing the digest.
 * Changing what `value` holds, or how, means a new `version`.
 */
export function composedDigest(kind: string, version: number, value: unknown): string {
  return sha256Digest(`imagewright.${kind}.v${version}\n${canonicalJson(value)}`);
}
