/**
 * A token service for the distribution registry's `auth.token` mode: a loopback HTTP server that checks
 * Basic credentials and issues ES256 JWTs whose `x5c` header carries a self-signed certificate the
 * registry trusts through `rootcertbundle`. GET with Basic credentials, and POST with the OAuth2
 * refresh-token grant (as dockerd and ACR clients trade identity tokens). Claims follow distribution's token spec: iss, sub, aud,
 * exp, nbf, iat, jti and `access` (type, name, actions).
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface ResourceAccess {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenServerOptions {
  /** Folder for the key and certificate (the caller removes it). */
  dir: string;
  /** username → password accepted by the token endpoint. */
  users: Record<string, string>;
  service?: string;
  issuer?: string;
  /** Repositories the service never grants access to (the token comes back without them). */
  deniedRepositories?: string[];
  /**
   * Refresh token → subject: identity tokens the service takes with the OAuth2 refresh-token grant
   * (a form POSTed to the realm: grant_type=refresh_token, refresh_token, service, scope, client_id).
   */
  refreshTokens?: Record<string, string>;
}

export interface TokenServer {
  /** The token endpoint, for the registry's `auth.token.realm`. */
  realm: string;
  service: string;
  issuer: string;
  /** PEM certificate for the registry's `auth.token.rootcertbundle`. */
  certPath: string;
  /** Token requests answered so far (granted or refused). */
  readonly requestCount: number;
  /** Every token handed out over HTTP, to check that none leaks into a message. */
  readonly issuedTokens: readonly string[];
  /** A signed token, without any HTTP (for the push helpers). */
  mint(subject: string, access: ResourceAccess[]): string;
  stop(): Promise<void>;
}

const TOKEN_SECONDS = 300;

export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const service = options.service ?? 'imagewright-test-registry';
  const issuer = options.issuer ?? 'imagewright-test-issuer';
  const keyPath = join(options.dir, 'token-key.pem');
  const certPath = join(options.dir, 'token-cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=imagewright test token issuer',
  ], { stdio: 'ignore' });
  const key = createPrivateKey(readFileSync(keyPath));
  const certificateDer = new X509Certificate(readFileSync(certPath)).raw.toString('base64');
  const mint = (subject: string, access: ResourceAccess[]) => signToken(key, certificateDer, { issuer, service, subject, access });

  let requestCount = 0;
  const issuedTokens: string[] = [];
  const issue = (subject: string, access: ResourceAccess[]) => {
    const token = mint(subject, access);
    issuedTokens.push(token);
    return token;
  };
  const server = createServer((request, response) => {
    requestCount++;
    const context = { users: options.users, service, mint: issue, denied: new Set(options.deniedRepositories) };
    if (request.method !== 'POST') return answerTokenRequest(request, response, context);
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => answerRefreshGrant(request, new URLSearchParams(Buffer.concat(chunks).toString('utf8')), response, { ...context, refreshTokens: options.refreshTokens ?? {} }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certPath,
    get requestCount() {
      return requestCount;
    },
    issuedTokens,
    mint,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface TokenRequestContext {
  users: Record<string, string>;
  service: string;
  mint(subject: string, access: ResourceAccess[]): string;
  denied: Set<string>;
}

function answerTokenRequest(request: IncomingMessage, response: ServerResponse, context: TokenRequestContext): void {
  const url = new URL(request.url ?? '/', 'http://token.invalid');
  const user = authenticatedUser(request.headers.authorization, context.users);
  if (url.pathname !== '/token') return reply(response, 404, { details: 'not found' });
  if (!user) return reply(response, 401, { details: 'bad or missing credentials' });
  if (url.searchParams.get('service') !== context.service) return reply(response, 400, { details: 'unknown service' });
  const scopes = url.searchParams.getAll('scope').flatMap((scope) => scope.split(' ')).filter(Boolean);
  const granted = scopes
    .map(parseScope)
    .filter((access): access is ResourceAccess => access !== undefined && !context.denied.has(access.name));
  const token = context.mint(user, granted);
  reply(response, 200, { token, access_token: token, expires_in: TOKEN_SECONDS, issued_at: new Date().toISOString() });
}

/** The OAuth2 refresh-token grant: RFC 6749's `400 invalid_grant` for a token it does not know. */
function answerRefreshGrant(request: IncomingMessage, form: URLSearchParams, response: ServerResponse, context: TokenRequestContext & { refreshTokens: Record<string, string> }): void {
  const url = new URL(request.url ?? '/', 'http://token.invalid');
  if (url.pathname !== '/token') return reply(response, 404, { details: 'not found' });
  if (request.headers['content-type'] !== 'application/x-www-form-urlencoded') return reply(response, 400, { error: 'invalid_request' });
  if (form.get('grant_type') !== 'refresh_token' || !form.get('client_id')) return reply(response, 400, { error: 'unsupported_grant_type' });
  const subject = context.refreshTokens[form.get('refresh_token') ?? ''];
  if (!subject) return reply(response, 400, { error: 'invalid_grant' });
  if (form.get('service') !== context.service) return reply(response, 400, { error: 'invalid_request', error_description: 'unknown service' });
  const granted = (form.get('scope') ?? '')
    .split(' ')
    .filter(Boolean)
    .map(parseScope)
    .filter((access): access is ResourceAccess => access !== undefined && !context.denied.has(access.name));
  const token = context.mint(subject, granted);
  reply(response, 200, { access_token: token, expires_in: TOKEN_SECONDS, issued_at: new Date().toISOString() });
}

/** `repository:name/with/slashes:pull,push` (the name itself never holds a colon, except a registry port). */
function parseScope(scope: string): ResourceAccess | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last <= first) return undefined;
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',') };
}

function authenticatedUser(header: string | undefined, users: Record<string, string>): string | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const [user, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
  return colon > 0 && users[user] === password ? user : undefined;
}

function reply(response: ServerResponse, status: number, body: object): void {
  response.writeHead(status, { 'Content-Type': 'application/json' });
  response.end(JSON.stringify(body));
}

interface Claims {
  issuer: string;
  service: string;
  subject: string;
  access: ResourceAccess[];
}

function signToken(key: KeyObject, certificateDer: string, claims: Claims): string {
  const now = Math.floor(Date.now() / 1000);
  const header = { typ: 'JWT', alg: 'ES256', x5c: [certificateDer] };
  const payload = {
    iss: claims.issuer,
    sub: claims.subject,
    aud: claims.service,
    exp: now + TOKEN_SECONDS,
    nbf: now - 1,
    iat: now,
    jti: randomUUID(),
    access: claims.access,
  };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  // JWS ES256 wants the raw r||s form, not DER.
  const signature = sign('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' });
  return `${signingInput}.${base64url(signature)}`;
}

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}
