/**
 * Errors a user can act on. Every one carries a single-line message that names the file and the
 * location (JSON path, line) where the problem is, and the exit code the CLI returns for it.
 */

/** Bad input: a malformed manifest, Dockerfile, image-info file or command line. Exit code 2. */
export class InputError extends Error {
  readonly exitCode = 2;
  constructor(
    /** The file at fault (as the user named it, or relative to the working directory). */
    readonly file: string,
    /** Where in the file: a JSON path such as `repos[0].images[1].platforms[0].dockerfile`, or `line 12`. */
    readonly location: string | undefined,
    /** What is wrong, one line, no trailing period needed. */
    readonly problem: string,
  ) {
    super(`${file}${location ? `: ${location}` : ''}: ${problem}`.replace(/\s*\n\s*/g, ' '));
    this.name = 'InputError';
  }
}

/** The registry refused our credentials, or we had none it accepts. Never treated as a cache miss. Exit code 3. */
export class RegistryAuthError extends Error {
  readonly exitCode = 3;
  constructor(message: string) {
    super(message);
    this.name = 'RegistryAuthError';
  }
}

/** Any other registry failure (unreachable, 5xx after retries, malformed answer). Exit code 3. */
export class RegistryError extends Error {
  readonly exitCode = 3;
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = 'RegistryError';
  }
}

/** The registry answered 404 for a manifest: the tag or digest does not exist (a genuine miss). */
export class ImageNotFoundError extends RegistryError {
  constructor(
    /** The normalized reference that was not found. */
    readonly reference: string,
  ) {
    super(`image not found: ${reference}`, 404);
    this.name = 'ImageNotFoundError';
  }
}

/** The reference names an index without an image for the wanted platform (or a single image of another platform). */
export class PlatformNotFoundError extends RegistryError {
  constructor(
    /** The normalized reference. */
    readonly reference: string,
    /** The wanted platform, formatted. */
    readonly platform: string,
    /** Why nothing matched, e.g. `the index offers linux/amd64, linux/arm/v7`. */
    readonly problem: string,
  ) {
    super(`${reference}: no image for platform ${platform}: ${problem}`);
    this.name = 'PlatformNotFoundError';
  }
}

/**
 * The engine cannot do what the plan needs, and no build was started: e.g. RUN steps of a foreign
 * architecture on an engine without an emulator. The message says how to enable it. Exit code 3.
 */
export class EngineCapabilityError extends Error {
  readonly exitCode = 3;
  constructor(message: string) {
    super(message);
    this.name = 'EngineCapabilityError';
  }
}

/** Exit codes the CLI uses, in one place so the docs and the code agree. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  badInput: 2,
  /** A registry error, or an engine that cannot build what the plan needs (emulation missing). */
  registry: 3,
  /** `build`: everything it could build succeeded, but some platforms cannot be built on this engine (Windows on Linux) and were skipped. */
  skipped: 4,
  /** `plan --exit-code`: something must build. */
  stale: 10,
} as const;
