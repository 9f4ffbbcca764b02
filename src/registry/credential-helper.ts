/**
 * Docker credential helpers, as the Docker CLI runs them: `docker-credential-<name> get` with the
 * server URL on stdin answers `{"ServerURL", "Username", "Secret"}` on stdout (Username `<token>`:
 * the Secret is an identity token, an OAuth2 refresh token). Azure, AWS, GCP and Docker Desktop
 * logins keep credentials this way. A helper's output is never quoted in a message.
 */
import { spawn } from 'node:child_process';
import { RegistryAuthError } from '../errors.js';
import type { RegistryCredentials } from './credentials.js';

const HELPER_TIMEOUT_MS = 30_000;
const MAX_OUTPUT_BYTES = 64 * 1024;

/**
 * The credentials `docker-credential-<helper>` holds for `serverUrl`, or undefined when it has none.
 * `registry` and `origin` (the config field and file naming the helper) are for messages.
 */
export async function credentialsFromHelper(helper: string, serverUrl: string, registry: string, origin: string): Promise<RegistryCredentials | undefined> {
  const command = `docker-credential-${helper}`;
  const fail = (problem: string) => new RegistryAuthError(`${registry}: the credential helper ${command} (${origin}) ${problem}`);
  const result = await runHelper(command, serverUrl);
  if (result.error === 'ENOENT') throw fail('is not on PATH');
  if (result.error) throw fail(`could not run (${result.error})`);
  if (result.status !== 0) {
    // The protocol's "no credentials for this server" (docker-credential-helpers' ErrCredentialsNotFound).
    if (/credentials not found/i.test(result.stdout)) return undefined;
    throw fail(`failed (${result.status === null ? `killed after ${HELPER_TIMEOUT_MS / 1000} s` : `exit status ${result.status}`})`);
  }
  let answer: unknown;
  try {
    answer = JSON.parse(result.stdout);
  } catch {
    answer = undefined;
  }
  const { Username: username, Secret: secret } = (typeof answer === 'object' && answer !== null ? answer : {}) as Record<string, unknown>;
  if (typeof username !== 'string' || typeof secret !== 'string') throw fail('answered something other than {"Username", "Secret"}');
  if (secret === '') return undefined;
  // The protocol's identity token: an OAuth2 refresh token, traded for access tokens (auth.ts).
  if (username === '<token>') return { username, password: '', identityToken: secret };
  return { username, password: secret };
}

interface HelperResult {
  status: number | null;
  stdout: string;
  /** The spawn error's code, when it did not run. */
  error?: string;
}

function runHelper(command: string, serverUrl: string): Promise<HelperResult> {
  return new Promise((resolve) => {
    // Not spawn's own `timeout`: its timer outlives a helper that could not start, and holds the process.
    const child = spawn(command, ['get'], { stdio: ['pipe', 'pipe', 'ignore'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), HELPER_TIMEOUT_MS);
    timer.unref();
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (stdout.length < MAX_OUTPUT_BYTES) stdout += chunk;
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ status: null, stdout: '', error: error.code ?? 'spawn error' });
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout });
    });
    // A helper that exits without reading stdin must not crash us with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(serverUrl);
  });
}
