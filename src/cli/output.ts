/** How errors and warnings reach the user: one line each, credentials never included. */
import { ExitCode, InputError, RegistryAuthError, RegistryError } from '../errors.js';

export function formatError(err: unknown): string {
  if (err instanceof Error) return err.message.replace(/\s*\n\s*/g, ' ');
  return String(err);
}

export function errorExitCode(err: unknown): number {
  if (err instanceof InputError) return ExitCode.badInput;
  if (err instanceof RegistryAuthError || err instanceof RegistryError) return ExitCode.registry;
  return ExitCode.failure;
}

export function warn(message: string): void {
  process.stderr.write(`imagewright: warning: ${message}\n`);
}
