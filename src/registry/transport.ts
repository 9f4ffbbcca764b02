/**
 * HTTP transport on node:http and node:https (keep-alive): bounded concurrency, a request counter,
 * redirects, and retries of idempotent requests on connection failures and 5xx/429 answers.
 *
 * Not fetch: fetch refuses the "bad ports" of the fetch standard (5060, 6000, ...) and a registry may
 * listen on any port. TLS failures are explained (which check failed, how to trust a private CA).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { RegistryError } from '../errors.js';
import { Semaphore } from '../limit.js';

export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  method: HttpMethod;
  url: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Whether sending it twice is harmless. Default: true for GET, HEAD, PUT, DELETE. */
  idempotent?: boolean;
}

/**
 * A response's header fields, read by name (any case) as fetch's Headers reads them. Not Headers
 * itself: in Node 20 its first use loads the whole of undici, a cost paid before the first request.
 */
export interface ResponseHeaders {
  get(name: string): string | null;
}

export interface HttpResponse {
  status: number;
  headers: ResponseHeaders;
  body: Buffer;
  /** The final URL, after redirects. */
  url: string;
}

export interface TransportOptions {
  concurrency: number;
  userAgent: string;
  /** Total tries of an idempotent request, first one included. */
  maxAttempts?: number;
  /** First retry delay; doubled for each later retry. */
  backoffMs?: number;
  /** Limit for one attempt, body included. */
  timeoutMs?: number;
}

/** Socket-level failures worth another try: the server or a proxy dropped or stalled the connection. */
const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'TimeoutError',
]);

const MAX_RETRY_AFTER_MS = 2_000;
const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Certificate checks that fail when the registry's CA is not one Node trusts. */
const UNTRUSTED_CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

/** The server could not be reached, or did not speak HTTP as expected; `code` is the socket's or parser's. */
export class NetworkError extends RegistryError {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'NetworkError';
  }
}

export class Transport {
  #requestCount = 0;
  readonly #semaphore: Semaphore;
  readonly #userAgent: string;
  readonly #maxAttempts: number;
  readonly #backoffMs: number;
  readonly #timeoutMs: number;
  // Idle sockets are unref'd by the agents, so they never keep the process alive.
  readonly #httpAgent = new HttpAgent({ keepAlive: true });
  readonly #httpsAgent = new HttpsAgent({ keepAlive: true });

  constructor(options: TransportOptions) {
    this.#semaphore = new Semaphore(options.concurrency);
    this.#userAgent = options.userAgent;
    this.#maxAttempts = options.maxAttempts ?? 3;
    this.#backoffMs = options.backoffMs ?? 100;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
  }

  get requestCount(): number {
    return this.#requestCount;
  }

  /** Send a request and read its whole body. Throws RegistryError when the server cannot be reached. */
  async send(request: HttpRequest): Promise<HttpResponse> {
    const idempotent = request.idempotent ?? (request.method !== 'POST' && request.method !== 'PATCH');
    const attempts = idempotent ? this.#maxAttempts : 1;
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= attempts;
      let response: HttpResponse;
      try {
        response = await this.#semaphore.run(() => this.#attempt(request));
      } catch (error) {
        const code = networkErrorCode(error);
        if (last || !RETRYABLE_NETWORK_CODES.has(code)) {
          const tries = attempt > 1 ? ` (after ${attempt} attempts)` : '';
          throw new NetworkError(`${request.method} ${request.url}: ${explainNetworkError(code, request.url)}${tries}`, code);
        }
        await sleep(this.#backoffMs * 2 ** (attempt - 1));
        continue;
      }
      if (last || !isRetryableStatus(response.status)) return response;
      await sleep(this.#retryDelay(response, attempt));
    }
  }

  async #attempt(request: HttpRequest): Promise<HttpResponse> {
    this.#requestCount++;
    const signal = AbortSignal.timeout(this.#timeoutMs);
    let url = new URL(request.url);
    let method = request.method;
    let headers: Record<string, string> = { 'User-Agent': this.#userAgent, ...request.headers };
    let body = request.body;
    for (let redirects = 0; ; redirects++) {
      const answer = await this.#exchange(url, method, headers, body, signal);
      const location = answer.headers.get('location');
      if (!REDIRECT_STATUSES.has(answer.status) || !location || redirects >= MAX_REDIRECTS) return answer;
      const next = new URL(location, url);
      // As fetch does: credentials stay with their origin, and a 303 (or a redirected POST) becomes a GET.
      if (next.origin !== url.origin) headers = withoutHeader(headers, 'authorization');
      if (answer.status === 303 || (method === 'POST' && answer.status !== 307 && answer.status !== 308)) {
        method = method === 'HEAD' ? 'HEAD' : 'GET';
        body = undefined;
        headers = withoutHeader(withoutHeader(headers, 'content-type'), 'content-length');
      }
      url = next;
    }
  }

  /** One HTTP exchange, whole body read. */
  #exchange(url: URL, method: HttpMethod, headers: Record<string, string>, body: Buffer | undefined, signal: AbortSignal): Promise<HttpResponse> {
    const tls = url.protocol === 'https:';
    const send = tls ? httpsRequest : httpRequest;
    const requestHeaders = body ? { ...headers, 'Content-Length': String(body.length) } : headers;
    return new Promise((resolve, reject) => {
      const outgoing = send(url, { method, headers: requestHeaders, agent: tls ? this.#httpsAgent : this.#httpAgent, signal }, (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('error', reject);
        incoming.on('end', () => {
          resolve({ status: incoming.statusCode ?? 0, headers: headersOf(incoming), body: Buffer.concat(chunks), url: url.toString() });
        });
      });
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  }

  #retryDelay(response: HttpResponse, attempt: number): number {
    const retryAfter = Number(response.headers.get('retry-after'));
    if (Number.isFinite(retryAfter) && retryAfter > 0) return Math.min(retryAfter * 1000, MAX_RETRY_AFTER_MS);
    return this.#backoffMs * 2 ** (attempt - 1);
  }
}

function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** The most specific code in a fetch failure (undici wraps the socket error in `cause`), else the innermost message. */
function networkErrorCode(error: unknown): string {
  let current: unknown = error;
  let message = error instanceof Error ? error.message : String(error);
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    if (current.name === 'TimeoutError' || current.name === 'AbortError') return 'TimeoutError';
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
    message = current.message;
    current = current.cause;
  }
  return message;
}

/** What a failed connection means for the user: TLS failures say which check failed and what to do. */
function explainNetworkError(code: string, url: string): string {
  const host = new URL(url).host;
  if (UNTRUSTED_CERTIFICATE_CODES.has(code)) {
    return `TLS: the certificate of ${host} is not signed by a trusted CA (${code}); for a private CA, set NODE_EXTRA_CA_CERTS to its PEM file`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `TLS: the certificate of ${host} is not issued for that name (${code})`;
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return `TLS: the certificate of ${host} is not valid now (${code})`;
  if (code === 'EPROTO' || code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
    return `TLS: ${host} does not answer TLS (${code}); for a plain-HTTP registry, pass --insecure-registry ${host}`;
  }
  return code;
}

/** Node names the fields in lower case and has already joined repeated ones (but set-cookie), as Headers.get joins them. */
function headersOf(incoming: IncomingMessage): ResponseHeaders {
  const fields = incoming.headers;
  return {
    get: (name) => {
      const value = fields[name.toLowerCase()];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

function withoutHeader(headers: Record<string, string>, name: string): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([key]) => key.toLowerCase() !== name));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
