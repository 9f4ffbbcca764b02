/**
 * Registry authentication: answers Basic and Bearer (token service) challenges with credentials from
 * the Docker config file or a credential helper, and caches tokens per registry and scope. An
 * identity token (an OAuth2 refresh token) is traded at the token service with the refresh-token
 * grant (distribution's "OAuth2 token" POST), as dockerd does. Secrets never enter a message.
 */
import { RegistryAuthError, RegistryError } from '../errors.js';
import { parseAuthenticate, type AuthChallenge } from './challenge.js';
import { credentialsFromHelper } from './credential-helper.js';
import { credentialSource, loadDockerConfig, type DockerConfig, type RegistryCredentials } from './credentials.js';
import type { Transport } from './transport.js';

type RegistryScheme = { kind: 'basic' } | { kind: 'bearer'; realm: string; service?: string };

interface CachedToken {
  value: string;
  /** Epoch ms after which we fetch a new one rather than risk a 401. */
  renewAt: number;
}

/** Token lifetime the distribution spec tells clients to assume when the answer names none. */
const DEFAULT_TOKEN_SECONDS = 60;

/** Token-related registry scopes: `repository:<name>:pull` and `repository:<name>:pull,push`. */
export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

export function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}

export class Authenticator {
  readonly #transport: Transport;
  readonly #dockerConfigPath: string;
  #dockerConfig: DockerConfig | undefined;
  readonly #schemes = new Map<string, RegistryScheme>();
  readonly #tokens = new Map<string, Promise<CachedToken>>();
  /** Per registry, its credentials as looked up once (a helper runs once per registry and run). */
  readonly #credentialLookups = new Map<string, Promise<RegistryCredentials | undefined>>();
  /** Registries whose lookup is done and found nothing (for messages). */
  readonly #noCredentials = new Set<string>();

  constructor(transport: Transport, dockerConfigPath: string) {
    this.#transport = transport;
    this.#dockerConfigPath = dockerConfigPath;
  }

  /** The Authorization header to send up front, once the registry has told us how it authenticates. */
  async authorizationFor(registry: string, scope: string): Promise<string | undefined> {
    const scheme = this.#schemes.get(registry);
    if (!scheme) return undefined;
    if (scheme.kind === 'basic') return basicAuthorization(await this.#credentials(registry));
    const token = await this.#token(registry, scope, scheme, false);
    return `Bearer ${token.value}`;
  }

  /**
   * Answer a 401's `WWW-Authenticate` header: the Authorization header to retry with.
   * Throws RegistryAuthError when the challenge cannot be met.
   */
  async answerChallenge(registry: string, scope: string, header: string | null): Promise<string> {
    const challenges = parseAuthenticate(header ?? '');
    const bearer = challenges.find((challenge) => challenge.scheme === 'bearer' && challenge.params.realm);
    if (bearer) {
      const scheme = bearerScheme(registry, bearer);
      this.#schemes.set(registry, scheme);
      const token = await this.#token(registry, unionScopes(scope, bearer.params.scope), scheme, true, scope);
      return `Bearer ${token.value}`;
    }
    if (challenges.some((challenge) => challenge.scheme === 'basic')) {
      const credentials = await this.#credentials(registry);
      if (!credentials) throw new RegistryAuthError(`${registry}: the registry requires a login${this.credentialsNote(registry)}`);
      if (credentials.identityToken !== undefined) {
        throw new RegistryAuthError(`${registry}: the registry asks for Basic authentication, but the credentials are an identity token, which only a token service takes${this.credentialsNote(registry)}`);
      }
      this.#schemes.set(registry, { kind: 'basic' });
      return basicAuthorization(credentials) ?? '';
    }
    throw new RegistryAuthError(`${registry}: HTTP 401 without a Basic or Bearer challenge`);
  }

  /** Where our credentials came from (or that we had none), for auth error messages. */
  credentialsNote(registry: string): string {
    const config = this.#config();
    const source = credentialSource(config, registry);
    if (source.kind === 'helper') {
      const found = this.#noCredentials.has(registry) ? 'which has no credentials' : 'whose credentials';
      return ` (from docker-credential-${source.helper}, ${found} for ${registry}, named by ${source.field} in ${config.path})`;
    }
    if (source.credentials) return ` (using the credentials for ${registry} in ${config.path})`;
    return ` (no credentials for ${registry} in ${config.path})`;
  }

  #config(): DockerConfig {
    this.#dockerConfig ??= loadDockerConfig(this.#dockerConfigPath);
    return this.#dockerConfig;
  }

  #credentials(registry: string): Promise<RegistryCredentials | undefined> {
    let lookup = this.#credentialLookups.get(registry);
    if (!lookup) {
      lookup = this.#lookUpCredentials(registry);
      this.#credentialLookups.set(registry, lookup);
    }
    return lookup;
  }

  async #lookUpCredentials(registry: string): Promise<RegistryCredentials | undefined> {
    const config = this.#config();
    const source = credentialSource(config, registry);
    const credentials =
      source.kind === 'helper' ? await credentialsFromHelper(source.helper, source.serverUrl, registry, `${source.field} in ${config.path}`) : source.credentials;
    if (!credentials) this.#noCredentials.add(registry);
    return credentials;
  }

  /**
   * A token for `scope`, shared by concurrent callers. `cacheKey` is the scope the caller will ask for
   * next time (the challenge may have widened the one requested); `renew` drops a token the registry refused.
   */
  #token(registry: string, scope: string, scheme: Extract<RegistryScheme, { kind: 'bearer' }>, renew: boolean, cacheKey = scope): Promise<CachedToken> {
    const key = `${registry}|${cacheKey}`;
    const cached = this.#tokens.get(key);
    if (cached && !renew) {
      return cached.then((token) => (token.renewAt > Date.now() ? token : this.#token(registry, scope, scheme, true, cacheKey)));
    }
    const fetching = this.#fetchToken(registry, scope, scheme);
    this.#tokens.set(key, fetching);
    fetching.catch(() => {
      if (this.#tokens.get(key) === fetching) this.#tokens.delete(key);
    });
    return fetching;
  }

  async #fetchToken(registry: string, scope: string, scheme: Extract<RegistryScheme, { kind: 'bearer' }>): Promise<CachedToken> {
    const credentials = await this.#credentials(registry);
    if (credentials?.identityToken !== undefined) return this.#refreshToken(registry, scope, scheme, credentials.identityToken);
    const url = new URL(scheme.realm);
    if (scheme.service) url.searchParams.set('service', scheme.service);
    for (const each of scope.split(' ').filter(Boolean)) url.searchParams.append('scope', each);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (credentials) {
      url.searchParams.set('account', credentials.username);
      headers.Authorization = basicAuthorization(credentials) ?? '';
    }
    const started = Date.now();
    const response = await this.#transport.send({ method: 'GET', url: url.toString(), headers });
    if (response.status === 401 || response.status === 403) {
      throw new RegistryAuthError(`${registry}: the token service at ${url.origin} refused access (HTTP ${response.status})${this.credentialsNote(registry)}`);
    }
    if (response.status !== 200) {
      throw new RegistryError(`${registry}: the token service at ${url.origin} answered HTTP ${response.status}`, response.status);
    }
    return parseTokenAnswer(registry, url.origin, response.body, started);
  }

  /** An access token for `scope` in exchange for a refresh token: the OAuth2 refresh-token grant, POSTed as a form. */
  async #refreshToken(registry: string, scope: string, scheme: Extract<RegistryScheme, { kind: 'bearer' }>, refreshToken: string): Promise<CachedToken> {
    const url = new URL(scheme.realm);
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'imagewright' });
    if (scheme.service) form.set('service', scheme.service);
    const scopes = scope.split(' ').filter(Boolean);
    if (scopes.length > 0) form.set('scope', scopes.join(' '));
    const started = Date.now();
    const response = await this.#transport.send({
      method: 'POST',
      url: url.toString(),
      headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: Buffer.from(form.toString()),
      // Asking for a token changes nothing: a reset connection may ask again.
      idempotent: true,
    });
    // RFC 6749: an invalid or expired refresh token is `400 invalid_grant`; some services answer 401.
    if (response.status === 400 || response.status === 401 || response.status === 403) {
      throw new RegistryAuthError(
        `${registry}: the token service at ${url.origin} refused the identity token (HTTP ${response.status}; it may have expired: log in again)${this.credentialsNote(registry)}`,
      );
    }
    if (response.status !== 200) {
      throw new RegistryError(`${registry}: the token service at ${url.origin} answered HTTP ${response.status}`, response.status);
    }
    return parseTokenAnswer(registry, url.origin, response.body, started);
  }
}

function bearerScheme(registry: string, challenge: AuthChallenge): Extract<RegistryScheme, { kind: 'bearer' }> {
  const realm = challenge.params.realm ?? '';
  if (!/^https?:\/\//i.test(realm)) throw new RegistryError(`${registry}: the Bearer challenge's realm is not an http(s) URL`);
  const scheme: Extract<RegistryScheme, { kind: 'bearer' }> = { kind: 'bearer', realm };
  if (challenge.params.service) scheme.service = challenge.params.service;
  return scheme;
}

function parseTokenAnswer(registry: string, origin: string, body: Buffer, started: number): CachedToken {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const answer = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const value = typeof answer.token === 'string' && answer.token ? answer.token : answer.access_token;
  if (typeof value !== 'string' || !value) throw new RegistryError(`${registry}: the token service at ${origin} returned no token`);
  const seconds = typeof answer.expires_in === 'number' && answer.expires_in > 0 ? answer.expires_in : DEFAULT_TOKEN_SECONDS;
  // Renew a little early so a token does not expire between our check and the registry's.
  return { value, renewAt: started + seconds * 900 };
}

function unionScopes(ours: string, theirs: string | undefined): string {
  const all = new Set([...ours.split(' '), ...(theirs ?? '').split(' ')].filter(Boolean));
  return [...all].join(' ');
}

function basicAuthorization(credentials: RegistryCredentials | undefined): string | undefined {
  if (!credentials) return undefined;
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}
