/**
 * Starts the real distribution registry (Debian's /usr/bin/docker-registry) on loopback with a temp
 * storage folder, without auth, with htpasswd Basic auth, or with token auth against a local token
 * service. Test content is pushed straight through the registry API; no engine needed.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTokenServer, type TokenServer } from './registry-token.js';

export const REGISTRY_BINARY = '/usr/bin/docker-registry';

export type RegistryAuthMode = 'none' | 'basic' | 'token';

export interface StartRegistryOptions {
  auth?: RegistryAuthMode;
  username?: string;
  password?: string;
  /** Token mode: repositories the token service never grants. */
  deniedRepositories?: string[];
  /** Token mode: identity (refresh) tokens the token service takes, each → its subject. */
  refreshTokens?: Record<string, string>;
  /** Listen on this port (default: a free one). */
  port?: number;
  /** Serve HTTPS with a self-signed certificate for 127.0.0.1 (TestRegistry.caFile holds it). */
  tls?: boolean;
}

export interface TestRegistry {
  /** `127.0.0.1:<port>`: the registry part of image references. */
  host: string;
  /** `http://127.0.0.1:<port>` (`https://` with tls). */
  url: string;
  /** With tls: the PEM file of the self-signed certificate (to trust it: NODE_EXTRA_CA_CERTS). */
  caFile?: string;
  auth: RegistryAuthMode;
  username: string;
  password: string;
  /** Present in token mode. */
  tokenServer?: TokenServer;
  /** Scratch folder removed by stop(); tests may put files (Docker config files) in it. */
  dir: string;
  /** Authorization header value granting pull and push on `repository`, or undefined without auth. */
  authorization(repository: string): string | undefined;
  stop(): Promise<void>;
}

export async function startRegistry(options: StartRegistryOptions = {}): Promise<TestRegistry> {
  const auth = options.auth ?? 'none';
  const username = options.username ?? 'builder';
  const password = options.password ?? 'correct horse battery staple';
  const dir = mkdtempSync(join(tmpdir(), 'iw-registry-'));
  let tokenServer: TokenServer | undefined;
  let registryProcess: ChildProcess | undefined;
  try {
    const port = options.port ?? (await freePort());
    const host = `127.0.0.1:${port}`;
    const authConfig = await authSection(auth, dir, username, password, options.deniedRepositories ?? [], options.refreshTokens ?? {});
    tokenServer = authConfig.tokenServer;
    const tls = options.tls ? selfSignedCertificate(dir) : undefined;
    const configPath = join(dir, 'config.yml');
    writeFileSync(configPath, JSON.stringify(registryConfig(host, join(dir, 'data'), authConfig.section, tls), null, 2));
    registryProcess = spawn(REGISTRY_BINARY, ['serve', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    const output = captureOutput(registryProcess);
    const url = `${tls ? 'https' : 'http'}://${host}`;
    await waitUntilServing(url, tls?.certificate, registryProcess, output);
    const child = registryProcess;
    const server = tokenServer;
    return {
      host,
      url,
      ...(tls && { caFile: tls.certificate }),
      auth,
      username,
      password,
      ...(server && { tokenServer: server }),
      dir,
      authorization: (repository) => pushAuthorization(auth, username, password, server, repository),
      stop: async () => {
        await stopProcess(child);
        await server?.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (registryProcess) await stopProcess(registryProcess);
    await tokenServer?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** A self-signed certificate (and key) for 127.0.0.1, made by openssl in `dir`. */
function selfSignedCertificate(dir: string): { certificate: string; key: string } {
  const certificate = join(dir, 'registry.crt');
  const key = join(dir, 'registry.key');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', certificate,
  ], { stdio: 'ignore' });
  return { certificate, key };
}

function registryConfig(host: string, rootDirectory: string, auth: object | undefined, tls?: { certificate: string; key: string }): object {
  // JSON is YAML, so the config needs no YAML writer.
  return {
    version: '0.1',
    log: { level: 'error', accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: rootDirectory },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: { addr: host, secret: 'imagewright-test-secret', ...(tls && { tls }) },
    ...(auth && { auth }),
  };
}

async function authSection(
  auth: RegistryAuthMode,
  dir: string,
  username: string,
  password: string,
  deniedRepositories: string[],
  refreshTokens: Record<string, string>,
): Promise<{ section?: object; tokenServer?: TokenServer }> {
  if (auth === 'basic') {
    const htpasswd = execFileSync('htpasswd', ['-Bbn', username, password], { encoding: 'utf8' });
    const path = join(dir, 'htpasswd');
    writeFileSync(path, htpasswd);
    return { section: { htpasswd: { realm: 'imagewright-test', path } } };
  }
  if (auth === 'token') {
    const tokenServer = await startTokenServer({ dir, users: { [username]: password }, deniedRepositories, refreshTokens });
    const section = {
      token: { realm: tokenServer.realm, service: tokenServer.service, issuer: tokenServer.issuer, rootcertbundle: tokenServer.certPath },
    };
    return { section, tokenServer };
  }
  return {};
}

function pushAuthorization(
  auth: RegistryAuthMode,
  username: string,
  password: string,
  tokenServer: TokenServer | undefined,
  repository: string,
): string | undefined {
  if (auth === 'basic') return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  if (auth === 'token' && tokenServer) {
    return `Bearer ${tokenServer.mint('test-pusher', [{ type: 'repository', name: repository, actions: ['pull', 'push'] }])}`;
  }
  return undefined;
}

/** A port free right now on 127.0.0.1 (the registry binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** The last few KB of the process's output, for a failure message. */
function captureOutput(child: ChildProcess): () => string {
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-8192);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => output;
}

async function waitUntilServing(url: string, caFile: string | undefined, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`docker-registry exited (${child.exitCode ?? child.signalCode}) before serving:\n${output()}`);
    }
    try {
      // Not fetch: it refuses some ports (6000, 5060...) a test registry may listen on.
      const status = await statusOf(`${url}/v2/`, caFile);
      if (status === 200 || status === 401) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`docker-registry did not start serving ${url} within 15 s:\n${output()}`);
}

function statusOf(url: string, caFile: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const send = url.startsWith('https:') ? httpsGet : httpGet;
    const request = send(url, { timeout: 1000, ...(caFile && { ca: readFileSync(caFile) }) }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', reject);
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
