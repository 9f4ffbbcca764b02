/** How errors and warnings reach the user: one line each, credentials never included. */
import { BadInputError, EngineCapabilityError, ExitCode, RegistryAuthError, RegistryError } from '../errors.js';
import { escapeControl, messageLine } from '../paths.js';

export function formatError(err: unknown): string {
  if (!(err instanceof Error)) return messageLine(String(err));
  // Names from a repository (paths, tags, args) may hold terminal escapes: shown escaped, never raw.
  const message = messageLine(err.message);
  // The registry's own words ("access denied", "requires a login") do not say that the fix is a login.
  return err instanceof RegistryAuthError ? `authentication failed: ${message}` : message;
}

export function errorExitCode(err: unknown): number {
  if (err instanceof BadInputError) return ExitCode.badInput;
  if (err instanceof RegistryAuthError || err instanceof RegistryError || err instanceof EngineCapabilityError) return ExitCode.registry;
  return ExitCode.failure;
}

export function warn(message: string): void {
  process.stderr.write(`imagewright: warning: ${messageLine(message)}\n`);
}

/**
 * A command's output (plan, graph, matrix, reports) to stdout. A name from the repository (a context
 * file, a path) may hold control characters: they are shown escaped, never raw. JSON stays valid and
 * means the same: such a character can only sit inside a string, where `\u001b` is its escape.
 */
export function writeOutput(text: string): void {
  process.stdout.write(escapeControl(text));
}
