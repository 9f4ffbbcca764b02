/**
 * HTTP transport on Node's global fetch (undici, keep-alive): bounded concurrency, a request counter,
 * and retries of idempotent requests on connection failures and 5xx/429 answers.
 */
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

export interface HttpResponse {
  status: number;
  headers: Headers;
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

export class Transport {
  #requestCount = 0;
  readonly #semaphore: Semaphore;
  readonly #userAgent: string;
  readonly #maxAttempts: number;
  readonly #backoffMs: number;
  readonly #timeoutMs: number;

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
          throw new RegistryError(`${request.method} ${request.url}: ${code}${tries}`);
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
    const init: RequestInit = {
      method: request.method,
      headers: { 'User-Agent': this.#userAgent, ...request.headers },
      signal: AbortSignal.timeout(this.#timeoutMs),
    };
    if (request.body) init.body = new Uint8Array(request.body);
    const response = await fetch(request.url, init);
    const body = Buffer.from(await response.arrayBuffer());
    return { status: response.status, headers: response.headers, body, url: response.url || request.url };
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
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
    if (current.name === 'TimeoutError' || current.name === 'AbortError') return 'TimeoutError';
    message = current.message;
    current = current.cause;
  }
  return message;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
