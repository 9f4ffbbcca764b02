/**
 * Registry credentials from a Docker CLI config file (`auths` entries with base64 `auth`, or
 * `username`/`password`, or an `identitytoken`). Keys match with or without scheme and path, as the Docker CLI matches them.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { parseJsonText } from '../manifest/index.js';

export interface RegistryCredentials {
  username: string;
  password: string;
  /**
   * An OAuth2 refresh token (Docker's "identity token": `docker login` to ACR and other OAuth
   * registries stores one). A token service is then asked with the refresh-token grant instead of
   * the username and password.
   */
  identityToken?: string;
}

export interface DockerConfig {
  /** The file the config was read from (for messages); it may not exist. */
  path: string;
  /** `auths` entries keyed by registry host (scheme and path removed), in file order. */
  auths: Map<string, RegistryCredentials>;
  /** `credsStore`: the helper (`docker-credential-<name>`) holding the credentials of every registry without its own. */
  credsStore?: string;
  /** `credHelpers`: registry host → the helper holding that registry's credentials. */
  credHelpers: Map<string, string>;
}

/** Where a registry's credentials are, as the Docker CLI looks: its own helper, else the store, else `auths`. */
export type CredentialSource =
  | { kind: 'helper'; helper: string; /** The config field that names it. */ field: string; serverUrl: string }
  | { kind: 'file'; credentials: RegistryCredentials | undefined };

/** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function defaultDockerConfigPath(): string {
  const dir = process.env.DOCKER_CONFIG;
  return dir ? join(dir, 'config.json') : join(homedir(), '.docker', 'config.json');
}

/** Docker Hub's names; its credentials are stored under `https://index.docker.io/v1/`. */
const DOCKER_HUB_HOSTS = ['docker.io', 'index.docker.io', 'registry-1.docker.io'];

/** `https://host:port/v1/` → `host:port`, the way the Docker CLI normalizes `auths` keys. */
export function configKeyHost(key: string): string {
  const withoutScheme = key.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = withoutScheme.indexOf('/');
  return (slash >= 0 ? withoutScheme.slice(0, slash) : withoutScheme).toLowerCase();
}

/** Read a Docker config file; a missing file is an empty config, a malformed one an InputError. */
export function loadDockerConfig(path: string): DockerConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { path, auths: new Map(), credHelpers: new Map() };
    throw new InputError(path, undefined, `cannot read: ${(error as Error).message}`);
  }
  // The syntax error names line and column only: the text around it may be a credential.
  return parseDockerConfig(path, parseJsonText(text, path));
}

/** Interpret an already-parsed config file body. */
export function parseDockerConfig(path: string, parsed: unknown): DockerConfig {
  if (!isObject(parsed)) throw new InputError(path, undefined, 'expected a JSON object');
  const auths = new Map<string, RegistryCredentials>();
  const entries = parsed.auths ?? {};
  if (!isObject(entries)) throw new InputError(path, 'auths', 'expected an object');
  for (const [key, entry] of Object.entries(entries)) {
    const credentials = entryCredentials(path, key, entry);
    const host = configKeyHost(key);
    // An exact `host` key wins over a `https://host/...` key for the same registry.
    if (credentials && (!auths.has(host) || key.trim().toLowerCase() === host)) auths.set(host, credentials);
  }
  const credHelpers = new Map<string, string>();
  const helpers = parsed.credHelpers ?? {};
  if (!isObject(helpers)) throw new InputError(path, 'credHelpers', 'expected an object');
  for (const [key, name] of Object.entries(helpers)) credHelpers.set(configKeyHost(key), helperName(path, `credHelpers[${JSON.stringify(key)}]`, name));
  const config: DockerConfig = { path, auths, credHelpers };
  // Docker Desktop writes `"credsStore": ""` when there is none.
  if (parsed.credsStore !== undefined && parsed.credsStore !== '') config.credsStore = helperName(path, 'credsStore', parsed.credsStore);
  return config;
}

/** A helper's name: the `<name>` of `docker-credential-<name>`, a plain file name. */
function helperName(path: string, location: string, value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(value)) {
    throw new InputError(path, location, 'expected a credential helper name (the <name> of docker-credential-<name>)');
  }
  return value;
}

function entryCredentials(path: string, key: string, entry: unknown): RegistryCredentials | undefined {
  const location = `auths[${JSON.stringify(key)}]`;
  if (!isObject(entry)) throw new InputError(path, location, 'expected an object');
  if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') {
    // The username `docker login` stored beside it, if any, is only the account's name.
    const username = typeof entry.username === 'string' && entry.username !== '' ? entry.username : '<token>';
    return { username, password: '', identityToken: entry.identitytoken };
  }
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new InputError(path, `${location}.auth`, 'is not the base64 of "username:password"');
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof entry.username === 'string' && entry.username !== '' && typeof entry.password === 'string') {
    return { username: entry.username, password: entry.password };
  }
  return undefined;
}

/** The credentials a config file holds for a registry host (`docker.io` also matches Docker Hub's other names). */
export function credentialsFor(config: DockerConfig, registry: string): RegistryCredentials | undefined {
  for (const candidate of hostCandidates(registry)) {
    const found = config.auths.get(candidate);
    if (found) return found;
  }
  return undefined;
}

/** Where a registry's credentials are: a helper named for it in `credHelpers`, else `credsStore`, else the file. */
export function credentialSource(config: DockerConfig, registry: string): CredentialSource {
  const hub = DOCKER_HUB_HOSTS.includes(configKeyHost(registry));
  // The server URL the Docker CLI gives helpers: Docker Hub's legacy address, else the host.
  const serverUrl = hub ? 'https://index.docker.io/v1/' : configKeyHost(registry);
  for (const candidate of hostCandidates(registry)) {
    const helper = config.credHelpers.get(candidate);
    if (helper) return { kind: 'helper', helper, field: `credHelpers[${JSON.stringify(candidate)}]`, serverUrl };
  }
  if (config.credsStore) return { kind: 'helper', helper: config.credsStore, field: 'credsStore', serverUrl };
  return { kind: 'file', credentials: credentialsFor(config, registry) };
}

function hostCandidates(registry: string): string[] {
  const host = configKeyHost(registry);
  return DOCKER_HUB_HOSTS.includes(host) ? DOCKER_HUB_HOSTS : [host];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
