/**
 * Values that must never be shown: build-arg values given on the command line or taken from the
 * environment. A SecretValue renders masked however it is turned into text (template literals,
 * String(), JSON.stringify, util.inspect, console.log), so a value that reaches a message, a log, a
 * label or a JSON file by mistake reaches it as `***`. Only `reveal()` gives the value, and it is
 * called in two places: where the value enters a build key's hash, and where the Docker CLI's argv
 * is handed to spawn (see `revealArgv`).
 */
import { inspect } from 'node:util';
import { escapeControl } from './paths.js';

export const MASK = '***';

export class SecretValue {
  readonly #value: string;
  /** Shown as is before the mask, e.g. `TOKEN=` for a `--build-arg TOKEN=…` argument. */
  readonly #prefix: string;

  constructor(value: string, prefix = '') {
    this.#value = value;
    this.#prefix = prefix;
  }

  /** The value itself. Call only to hash it or to hand it to a child process. */
  reveal(): string {
    return this.#prefix + this.#value;
  }

  /** The same secret, shown and revealed after `prefix`. */
  withPrefix(prefix: string): SecretValue {
    return new SecretValue(this.#value, prefix + this.#prefix);
  }

  toString(): string {
    return this.#prefix + MASK;
  }

  toJSON(): string {
    return this.toString();
  }

  [Symbol.toPrimitive](): string {
    return this.toString();
  }

  [inspect.custom](): string {
    return this.toString();
  }

  /**
   * A filter for a child process's output that writes each of `secrets` (without prefix) as `***`:
   * a build may print a value itself (BuildKit shows a RUN step with its build args expanded).
   */
  static outputMask(secrets: readonly SecretValue[]): OutputMask {
    return new OutputMask(secrets.map((s) => s.#value));
  }
}

/**
 * Values shorter than this are not masked in output: a 1-3 character value would garble every line,
 * and is no secret anyway.
 */
export const MASK_MIN_LENGTH = 4;

/**
 * Streaming replacement of secret values in text arriving in chunks: the last (longest - 1)
 * characters are held back until the next chunk, so a value split between chunks is still found.
 */
export class OutputMask {
  readonly #values: string[];
  readonly #holdBack: number;
  #pending = '';

  constructor(values: readonly string[]) {
    const candidates = values.flatMap((v) => [v, v.trim()]).filter((v) => v.length >= MASK_MIN_LENGTH);
    // Longest first, so a value containing another is masked whole.
    this.#values = [...new Set(candidates)].sort((a, b) => b.length - a.length);
    this.#holdBack = Math.max(0, (this.#values[0]?.length ?? 0) - 1);
  }

  get empty(): boolean {
    return this.#values.length === 0;
  }

  /** Masked text that is safe to emit now. */
  write(chunk: string): string {
    if (this.empty) return chunk;
    const text = this.#mask(this.#pending + chunk);
    const cut = Math.max(0, text.length - this.#holdBack);
    this.#pending = text.slice(cut);
    return text.slice(0, cut);
  }

  /** The rest, at the end of the stream. */
  end(): string {
    const rest = this.#mask(this.#pending);
    this.#pending = '';
    return rest;
  }

  #mask(text: string): string {
    let masked = text;
    for (const value of this.#values) masked = masked.split(value).join(MASK);
    return masked;
  }
}

/** One argument of a command line: plain text, or a secret shown masked. */
export type Arg = string | SecretValue;

/** The argv to execute: secrets revealed. */
export function revealArgv(argv: readonly Arg[]): string[] {
  return argv.map((arg) => (typeof arg === 'string' ? arg : arg.reveal()));
}

/** The command line to show in a log: secrets masked, control characters escaped. */
export function displayArgv(argv: readonly Arg[]): string {
  return argv.map((arg) => escapeControl(String(arg))).join(' ');
}


/** A `--secret` for BuildKit: the specification passed on the command line, and its value (to mask in output). */
export interface BuildSecret {
  /** `id=ID,src=FILE` or `id=ID,env=VAR`: no value, shown as is. */
  spec: string;
  value: SecretValue;
}
