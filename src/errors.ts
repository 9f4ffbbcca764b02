/**
 * Errors a user can act on. Every one carries a single-line message that names the file and the
 * location (JSON path, line) where the problem is, and the exit code the CLI returns for it.
 */

/** Bad input of any kind: a file, a command-line option, an image's labels. Exit code 2. */
export abstract class BadInputError extends Error {
  readonly exitCode = 2;
}

/** Bad input in a file: a malformed manifest, Dockerfile, image-info or Docker config. Exit code 2. */
export class InputError extends BadInputError {
  constructor(
    /** The file at fault (as the user named it, or relative to the working directory); always a file path. */
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

/** A command-line option (or the value it was given) that cannot be used. Exit code 2. */
export class OptionError extends BadInputError {
  constructor(
    /** The option as written, e.g. `--registry-override`. */
    readonly option: string,
    /** What is wrong, one line. */
    readonly problem: string,
  ) {
    super(`${option}: ${problem}`.replace(/\s*\n\s*/g, ' '));
    this.name = 'OptionError';
  }
}

/** An image reference or digest that is not one (from a record or a caller), named as given. Exit code 2. */
export class InvalidReferenceError extends BadInputError {
  constructor(
    readonly reference: string,
    readonly problem: string,
  ) {
    super(`${reference}: ${problem}`.replace(/\s*\n\s*/g, ' '));
    this.name = 'InvalidReferenceError';
  }
}

/**
 * An image whose imagewright labels (see imageinfo/labels.ts) cannot be read: made by hand, by another
 * tool, or hostile. Exit code 2, as a malformed image-info file.
 */
export class LabelError extends BadInputError {
  constructor(
    /** The image, `registry/repo:tag`. */
    readonly image: string,
    /** The label and, after it, where in its JSON, e.g. `label dev.imagewright.inputs: buildArgs.X`. */
    readonly location: string,
    readonly problem: string,
  ) {
    super(`${image}: ${location}: ${problem}`.replace(/\s*\n\s*/g, ' '));
    this.name = 'LabelError';
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
