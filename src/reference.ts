/**
 * Docker image references, normalized the way the Docker CLI does it (distribution/reference's
 * ParseNormalizedNamed): `busybox` → `docker.io/library/busybox:latest`. Pure; no I/O.
 */

/** A parsed, normalized image reference (Docker's rules: `busybox` is `docker.io/library/busybox:latest`). */
export interface ImageReference {
  /** Registry host[:port], e.g. `docker.io`, `127.0.0.1:5000`, `mcr.microsoft.com`. */
  registry: string;
  /** Repository path within the registry, e.g. `library/busybox`, `dotnet/runtime`. */
  repository: string;
  /** Tag, when given (defaults to `latest` only when neither tag nor digest was given). */
  tag?: string;
  /** `sha256:...`, when the reference pins one. */
  digest?: string;
}

const DEFAULT_REGISTRY = 'docker.io';
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

/** Parse a reference; returns undefined when it is not a valid image reference. */
export function parseReference(input: string): ImageReference | undefined {
  let rest = input.trim();
  if (!rest) return undefined;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  // A colon after the last slash separates the tag; one before it belongs to a registry port.
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return undefined;
  }
  const parts = rest.split('/');
  let registry = DEFAULT_REGISTRY;
  const first = parts[0] ?? '';
  // Docker's rule: the first component is a registry when it has a dot or a port, or is `localhost`.
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['))) {
    registry = first;
    parts.shift();
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DEFAULT_REGISTRY;
  if (parts.length === 0 || !parts.every((p) => PATH_COMPONENT.test(p))) return undefined;
  if (registry === DEFAULT_REGISTRY && parts.length === 1) parts.unshift('library');
  if (!tag && !digest) tag = 'latest';
  const ref: ImageReference = { registry, repository: parts.join('/') };
  if (tag) ref.tag = tag;
  if (digest) ref.digest = digest;
  return ref;
}

/** `registry/repository[:tag][@digest]`. */
export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** The normalized form of a reference string, or undefined when it is not a valid reference. */
export function normalizeReference(input: string): string | undefined {
  const parsed = parseReference(input);
  return parsed ? formatReference(parsed) : undefined;
}

/** `repository@digest`: the image a digest names within a repository (`digestOfReference` cuts it back out). */
export function pinnedReference(repository: string, digest: string): string {
  return `${repository}@${digest}`;
}

/** `registry/repository` without tag or digest. */
export function repositoryOf(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}

/** `registry/repository` of a reference imagewright composed itself (a qualified tag); throws on anything else, which is a bug. */
export function repositoryOfReference(reference: string): string {
  const parsed = parseReference(reference);
  if (!parsed) throw new Error(`not an image reference: ${reference}`);
  return repositoryOf(parsed);
}

/** Whether a registry host is loopback (plain HTTP, as Docker does): 127.0.0.0/8, localhost, [::1]. */
export function isLoopbackRegistry(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0] ?? '';
  return name === 'localhost' || name === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(name);
}

/** What a reference resolved to for one platform (the registry resolves; the planner keys on it). */
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
