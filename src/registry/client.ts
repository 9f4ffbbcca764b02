/**
 * A registry client speaking the distribution (OCI) HTTP API: resolve tags to per-platform digests,
 * read manifests and blobs, and the few write primitives publishing needs.
 */
import { isSha256, sha256Digest } from '../digest.js';
import { ImageNotFoundError, InvalidReferenceError, PlatformNotFoundError, RegistryAuthError, RegistryError } from '../errors.js';
import { Authenticator, pullScope, pushScope } from './auth.js';
import { configKeyHost, defaultDockerConfigPath } from './credentials.js';
import { MANIFEST_ACCEPT, MediaType, isIndexMediaType } from './media-types.js';
import { canonicalPlatform, formatPlatform, matchIndexEntry, type IndexEntry, type TargetPlatform } from '../platform.js';
import { formatReference, isLoopbackRegistry, parseReference, type ImageReference } from '../reference.js';
import { NetworkError, Transport, type HttpMethod, type HttpResponse } from './transport.js';
import type { RegistryReader, ResolvedImage } from './types.js';

export interface RegistryClientOptions {
  /** Docker CLI config file with `auths`; default `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
  dockerConfig?: string;
  /** Registries (`host[:port]`) to reach over plain HTTP although they are not loopback. */
  insecureRegistries?: string[];
  /** Requests in flight at once. Default 16. */
  concurrency?: number;
  userAgent?: string;
  /** Total tries of an idempotent request. Default 3. */
  maxAttempts?: number;
  /** First retry delay in ms, doubled for each later retry. Default 100. */
  retryBackoffMs?: number;
  /** Limit for one HTTP attempt in ms. Default 60000. */
  timeoutMs?: number;
}

export interface ManifestAnswer {
  body: Buffer;
  mediaType: string;
  digest: string;
}

export interface RegistryClient extends RegistryReader {
  /** HEAD a manifest by tag or digest: what it names now, or undefined when it does not exist. Not cached. */
  headManifest(ref: string): Promise<{ digest: string; mediaType: string } | undefined>;
  /** GET a manifest (any of the four kinds) by tag or digest; the digest is verified against the body. */
  getManifest(ref: string): Promise<ManifestAnswer>;
  /** GET a blob (an image config, typically); verified against its digest. */
  getBlob(repoRef: string, digest: string): Promise<Buffer>;
  /** PUT a manifest under the reference's tag (or digest); returns the digest the registry reports. */
  putManifest(ref: string, body: Buffer, mediaType: string): Promise<string>;
  /** Upload a blob in one piece; returns its digest. */
  putBlob(repoRef: string, data: Buffer): Promise<string>;
  /** Cross-repository mount; false when the registry did not (or could not) mount, so the caller uploads. */
  mountBlob(fromRepoRef: string, toRepoRef: string, digest: string): Promise<boolean>;
  blobExists(repoRef: string, digest: string): Promise<boolean>;
}

export function createRegistryClient(options: RegistryClientOptions = {}): RegistryClient {
  return new HttpRegistryClient(options);
}

/** What a tag or digest names: one image manifest, or an index with its entries. */
interface ManifestDescription {
  digest: string;
  mediaType: string;
  entries?: IndexEntry[];
}

interface RegistryRequest {
  method: HttpMethod;
  /** `/v2/...` on the registry, or an absolute URL the registry gave us (upload locations). */
  path: string;
  scope: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Return a 401/403 answer instead of throwing RegistryAuthError. */
  allowDenied?: boolean;
}

const DEFAULT_USER_AGENT = 'imagewright/0.1 (+node)';
const DIGEST_SYNTAX = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$/;

class HttpRegistryClient implements RegistryClient {
  readonly #transport: Transport;
  readonly #auth: Authenticator;
  readonly #insecure: Set<string>;
  /** Registries we would speak plain HTTP to that answered that they speak only TLS. */
  readonly #tls = new Set<string>();
  readonly #resolved = new Map<string, Promise<ResolvedImage>>();
  readonly #described = new Map<string, Promise<ManifestDescription>>();

  constructor(options: RegistryClientOptions) {
    this.#transport = new Transport({
      concurrency: options.concurrency ?? 16,
      userAgent: options.userAgent ?? DEFAULT_USER_AGENT,
      ...(options.maxAttempts !== undefined && { maxAttempts: options.maxAttempts }),
      ...(options.retryBackoffMs !== undefined && { backoffMs: options.retryBackoffMs }),
      ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
    });
    this.#auth = new Authenticator(this.#transport, options.dockerConfig ?? defaultDockerConfigPath());
    this.#insecure = new Set((options.insecureRegistries ?? []).map(configKeyHost));
  }

  get requestCount(): number {
    return this.#transport.requestCount;
  }

  resolve(ref: string, platform: TargetPlatform): Promise<ResolvedImage> {
    const parsed = parseImageReference(ref);
    const key = `${formatReference(parsed)}|${formatPlatform(canonicalPlatform(platform))}`;
    let resolved = this.#resolved.get(key);
    if (!resolved) {
      resolved = this.#resolveUncached(parsed, platform);
      this.#resolved.set(key, resolved);
    }
    return resolved;
  }

  async exists(ref: string): Promise<boolean> {
    return (await this.#head(parseImageReference(ref))) !== undefined;
  }

  async headManifest(ref: string): Promise<{ digest: string; mediaType: string } | undefined> {
    const parsed = parseImageReference(ref);
    const head = await this.#head(parsed);
    if (!head) return undefined;
    const digest = head.headers.get('docker-content-digest') ?? parsed.digest;
    // Without the header the body must be hashed; a GET by the same reference does that.
    if (!digest) {
      const manifest = await this.getManifest(ref);
      return { digest: manifest.digest, mediaType: manifest.mediaType };
    }
    return { digest, mediaType: contentType(head) ?? '' };
  }

  /** One uncached HEAD of a manifest; undefined on 404. */
  async #head(parsed: ImageReference): Promise<HttpResponse | undefined> {
    const response = await this.#send(parsed, {
      method: 'HEAD',
      path: manifestPath(parsed),
      scope: pullScope(parsed.repository),
      headers: { Accept: MANIFEST_ACCEPT },
    });
    if (response.status === 404) return undefined;
    if (response.status === 200) return checkManifestAnswer(formatReference(parsed), response);
    throw unexpectedAnswer(`HEAD ${formatReference(parsed)}`, response);
  }

  getManifest(ref: string): Promise<ManifestAnswer> {
    const parsed = parseImageReference(ref);
    return this.#getManifestAt(parsed, parsed.digest ?? parsed.tag ?? 'latest');
  }

  async getBlob(repoRef: string, digest: string): Promise<Buffer> {
    const repo = parseImageReference(repoRef);
    checkDigest(digest);
    const response = await this.#send(repo, { method: 'GET', path: blobPath(repo, digest), scope: pullScope(repo.repository) });
    const where = `${repo.registry}/${repo.repository}@${digest}`;
    if (response.status === 404) throw new RegistryError(`blob not found: ${where}`, 404);
    if (response.status !== 200) throw unexpectedAnswer(`GET blob ${where}`, response);
    verifyDigest(where, digest, response.body);
    return response.body;
  }

  async putManifest(ref: string, body: Buffer, mediaType: string): Promise<string> {
    const parsed = parseImageReference(ref);
    const response = await this.#send(parsed, {
      method: 'PUT',
      path: manifestPath(parsed),
      scope: pushScope(parsed.repository),
      headers: { 'Content-Type': mediaType },
      body,
    });
    if (response.status !== 201 && response.status !== 200) throw unexpectedAnswer(`PUT ${formatReference(parsed)}`, response);
    return response.headers.get('docker-content-digest') ?? sha256Digest(body);
  }

  async putBlob(repoRef: string, data: Buffer): Promise<string> {
    const repo = parseImageReference(repoRef);
    const digest = sha256Digest(data);
    const where = `${repo.registry}/${repo.repository}`;
    const scope = pushScope(repo.repository);
    const started = await this.#send(repo, { method: 'POST', path: `/v2/${repo.repository}/blobs/uploads/`, scope });
    const location = started.headers.get('location');
    if (started.status !== 202 || !location) throw unexpectedAnswer(`POST upload to ${where}`, started);
    const target = new URL(location, started.url);
    target.searchParams.set('digest', digest);
    const finished = await this.#send(repo, {
      method: 'PUT',
      path: target.toString(),
      scope,
      headers: { 'Content-Type': 'application/octet-stream' },
      body: data,
    });
    if (finished.status !== 201) throw unexpectedAnswer(`PUT blob ${where}@${digest}`, finished);
    return digest;
  }

  async mountBlob(fromRepoRef: string, toRepoRef: string, digest: string): Promise<boolean> {
    const from = parseImageReference(fromRepoRef);
    const to = parseImageReference(toRepoRef);
    checkDigest(digest);
    if (from.registry !== to.registry) return false;
    const query = new URLSearchParams({ mount: digest, from: from.repository });
    const response = await this.#send(to, {
      method: 'POST',
      path: `/v2/${to.repository}/blobs/uploads/?${query.toString()}`,
      scope: `${pushScope(to.repository)} ${pullScope(from.repository)}`,
      // No read access to the source repository only means no mount: the caller uploads instead, and a
      // real lack of push access surfaces there.
      allowDenied: true,
    });
    if (response.status === 201) return true;
    if (response.status === 202) await this.#cancelUpload(to, response);
    else if (response.status !== 401 && response.status !== 403 && response.status !== 404) {
      throw unexpectedAnswer(`mount ${digest} into ${to.registry}/${to.repository}`, response);
    }
    return false;
  }

  async blobExists(repoRef: string, digest: string): Promise<boolean> {
    const repo = parseImageReference(repoRef);
    checkDigest(digest);
    const response = await this.#send(repo, { method: 'HEAD', path: blobPath(repo, digest), scope: pullScope(repo.repository) });
    if (response.status === 404) return false;
    if (response.status === 200) return true;
    throw unexpectedAnswer(`HEAD blob ${repo.registry}/${repo.repository}@${digest}`, response);
  }

  async #resolveUncached(parsed: ImageReference, platform: TargetPlatform): Promise<ResolvedImage> {
    const display = formatReference(parsed);
    const described = await this.#describe(parsed);
    if (!described.entries) return { ref: display, digest: described.digest, mediaType: described.mediaType };
    const { entry, problem } = matchIndexEntry(described.entries, platform);
    if (!entry) throw new PlatformNotFoundError(display, formatPlatform(canonicalPlatform(platform)), problem ?? 'no entry matches');
    return { ref: display, digest: entry.digest, indexDigest: described.digest, mediaType: entry.mediaType };
  }

  /** HEAD (and GET when needed) a reference once per client, shared by every platform resolved from it. */
  #describe(parsed: ImageReference): Promise<ManifestDescription> {
    const key = formatReference(parsed);
    let described = this.#described.get(key);
    if (!described) {
      described = this.#describeUncached(parsed);
      this.#described.set(key, described);
    }
    return described;
  }

  async #describeUncached(parsed: ImageReference): Promise<ManifestDescription> {
    const display = formatReference(parsed);
    const head = await this.#send(parsed, {
      method: 'HEAD',
      path: manifestPath(parsed),
      scope: pullScope(parsed.repository),
      headers: { Accept: MANIFEST_ACCEPT },
    });
    if (head.status === 404) throw new ImageNotFoundError(display);
    if (head.status !== 200) throw unexpectedAnswer(`HEAD ${display}`, head);
    checkManifestAnswer(display, head);
    const headDigest = head.headers.get('docker-content-digest') ?? parsed.digest;
    const headType = contentType(head);
    if (headDigest && headType && !isIndexMediaType(headType)) return { digest: headDigest, mediaType: headType };
    // An index must be read to pick the platform; read it by digest so the body is the one HEAD named.
    const manifest = await this.#getManifestAt(parsed, headDigest ?? parsed.tag ?? 'latest');
    if (!isIndexMediaType(manifest.mediaType)) return { digest: manifest.digest, mediaType: manifest.mediaType };
    return { digest: manifest.digest, mediaType: manifest.mediaType, entries: parseIndexEntries(display, manifest.body) };
  }

  async #getManifestAt(parsed: ImageReference, reference: string): Promise<ManifestAnswer> {
    const display = formatReference(parsed);
    const response = await this.#send(parsed, {
      method: 'GET',
      path: `/v2/${parsed.repository}/manifests/${reference}`,
      scope: pullScope(parsed.repository),
      headers: { Accept: MANIFEST_ACCEPT },
    });
    if (response.status === 404) throw new ImageNotFoundError(display);
    if (response.status !== 200) throw unexpectedAnswer(`GET ${display}`, response);
    checkManifestAnswer(display, response);
    if (!parseJsonObject(response.body)) throw new RegistryError(`${display}: the registry answered HTTP 200 with a body that is not a manifest (not a JSON object)`);
    const computed = sha256Digest(response.body);
    const claimed = DIGEST_SYNTAX.test(reference) ? reference : response.headers.get('docker-content-digest');
    if (claimed && isSha256(claimed) && claimed !== computed) {
      throw new RegistryError(`${display}: the manifest's content does not match its digest ${claimed}`);
    }
    const mediaType = contentType(response) ?? mediaTypeFromBody(response.body);
    return { body: response.body, mediaType, digest: claimed ?? computed };
  }

  /** Send one registry request, meeting an auth challenge once; a second refusal is RegistryAuthError. */
  async #send(image: ImageReference, request: RegistryRequest): Promise<HttpResponse> {
    const registry = image.registry;
    const urlOf = () => (/^https?:\/\//.test(request.path) ? request.path : `${this.#baseUrl(registry)}${request.path}`);
    const send = async (authorization: string | undefined) => {
      const url = urlOf();
      const headers = { ...request.headers, ...(authorization && { Authorization: authorization }) };
      const once = () => this.#transport.send({ method: request.method, url: urlOf(), headers, ...(request.body && { body: request.body }) });
      let answer: HttpResponse;
      try {
        answer = await once();
      } catch (error) {
        // A HEAD cannot carry the answer that says so: ask once whether the registry speaks only TLS.
        if (!(error instanceof NetworkError && error.code.startsWith('HPE_') && url.startsWith('http:') && (await this.#speaksTlsOnly(registry)))) throw error;
        return once();
      }
      if (!speaksTlsOnly(url, answer)) return answer;
      this.#tls.add(registry);
      return once();
    };
    let response = await send(await this.#auth.authorizationFor(registry, request.scope));
    if (response.status === 401) {
      const answer = await this.#auth.answerChallenge(registry, request.scope, response.headers.get('www-authenticate'));
      response = await send(answer);
    }
    if ((response.status === 401 || response.status === 403) && !request.allowDenied) {
      throw new RegistryAuthError(
        `${registry}: access to ${image.repository} denied (HTTP ${response.status})${this.#auth.credentialsNote(registry)}`,
      );
    }
    return response;
  }

  async #cancelUpload(repo: ImageReference, started: HttpResponse): Promise<void> {
    const location = started.headers.get('location');
    if (!location) return;
    // Abandoned upload sessions are garbage the registry would otherwise keep until it purges them.
    await this.#send(repo, { method: 'DELETE', path: new URL(location, started.url).toString(), scope: pushScope(repo.repository) }).catch(
      () => undefined,
    );
  }

  /**
   * Whether a registry we would speak plain HTTP to (loopback, --insecure-registry) answers that it
   * speaks only TLS; if so, we speak TLS to it from now on.
   */
  async #speaksTlsOnly(registry: string): Promise<boolean> {
    if (this.#tls.has(registry)) return true;
    const url = `${this.#baseUrl(registry)}/v2/`;
    const answer = await this.#transport.send({ method: 'GET', url }).catch(() => undefined);
    if (!answer || !speaksTlsOnly(url, answer)) return false;
    this.#tls.add(registry);
    return true;
  }

  #baseUrl(registry: string): string {
    const host = registry === 'docker.io' ? 'registry-1.docker.io' : registry;
    if (this.#tls.has(registry)) return `https://${host}`;
    const plain = isLoopbackRegistry(registry) || this.#insecure.has(registry) || this.#insecure.has(hostWithoutPort(registry));
    return `${plain ? 'http' : 'https'}://${host}`;
  }
}

/** Parse a reference a caller passed; an invalid one is bad input naming the reference. */
function parseImageReference(ref: string): ImageReference {
  const parsed = parseReference(ref);
  if (!parsed) throw new InvalidReferenceError(ref, 'not a valid image reference');
  return parsed;
}

function checkDigest(digest: string): void {
  if (!DIGEST_SYNTAX.test(digest)) throw new InvalidReferenceError(digest, 'not a valid digest');
}

function manifestPath(ref: ImageReference): string {
  return `/v2/${ref.repository}/manifests/${ref.digest ?? ref.tag ?? 'latest'}`;
}

function blobPath(ref: ImageReference, digest: string): string {
  return `/v2/${ref.repository}/blobs/${digest}`;
}

/** Go's HTTPS servers (the distribution registry) answer a plain-HTTP request with this 400. */
function speaksTlsOnly(url: string, response: HttpResponse): boolean {
  return (
    response.status === 400 && url.startsWith('http:') && response.body.toString('utf8', 0, 200).includes('Client sent an HTTP request to an HTTPS server')
  );
}

function hostWithoutPort(registry: string): string {
  return registry.startsWith('[') ? registry.slice(0, registry.indexOf(']') + 1) : (registry.split(':')[0] ?? registry);
}

function verifyDigest(where: string, digest: string, body: Buffer): void {
  if (isSha256(digest) && sha256Digest(body) !== digest) {
    throw new RegistryError(`${where}: the content does not match its digest`);
  }
}

/** Content types a manifest answer may carry: the manifest kinds, schema 1, and the generic ones some registries send. */
const MANIFEST_CONTENT_TYPES = new Set<string>([
  ...Object.values(MediaType),
  'application/vnd.docker.distribution.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
  'application/json',
  'application/octet-stream',
]);

/**
 * A 200 that is not a manifest (a proxy's HTML login page, say) is an error, never a digest. Returns
 * the response when its content type may be a manifest's.
 */
function checkManifestAnswer(display: string, response: HttpResponse): HttpResponse {
  const type = response.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type && !MANIFEST_CONTENT_TYPES.has(type) && !type.startsWith('application/vnd.oci.')) {
    throw new RegistryError(`${display}: the registry answered HTTP 200 with ${type}, not a manifest (a proxy's login or error page?)`, 200);
  }
  return response;
}

function contentType(response: HttpResponse): string | undefined {
  const value = response.headers.get('content-type')?.split(';')[0]?.trim();
  return value && value !== 'application/json' && value !== 'application/octet-stream' ? value : undefined;
}

/** For registries that omit Content-Type: the manifest's own `mediaType`, else its shape. */
function mediaTypeFromBody(body: Buffer): string {
  const manifest = parseJsonObject(body);
  if (typeof manifest?.mediaType === 'string') return manifest.mediaType;
  return Array.isArray(manifest?.manifests) ? MediaType.ociIndex : MediaType.ociManifest;
}

function parseIndexEntries(display: string, body: Buffer): IndexEntry[] {
  const manifests = parseJsonObject(body)?.manifests;
  if (!Array.isArray(manifests)) throw new RegistryError(`${display}: the index has no manifests list`);
  return manifests.map((entry: unknown, i) => {
    const candidate = entry as Partial<IndexEntry> | null;
    if (typeof candidate?.digest !== 'string' || !DIGEST_SYNTAX.test(candidate.digest)) {
      throw new RegistryError(`${display}: manifests[${i}] of the index has no valid digest`);
    }
    return { ...candidate, digest: candidate.digest, mediaType: candidate.mediaType ?? MediaType.ociManifest };
  });
}

function parseJsonObject(body: Buffer): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A registry answer we did not expect, with the registry's own error code when it gave one. */
function unexpectedAnswer(what: string, response: HttpResponse): RegistryError {
  const errors = parseJsonObject(response.body)?.errors;
  const first = Array.isArray(errors) ? (errors[0] as { code?: unknown; message?: unknown } | undefined) : undefined;
  const detail = typeof first?.code === 'string' ? ` (${first.code}${typeof first.message === 'string' ? `: ${first.message}` : ''})` : '';
  return new RegistryError(`${what}: HTTP ${response.status}${detail}`, response.status);
}
