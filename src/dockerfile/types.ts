/** What one Dockerfile reads, as found by `analyzeDockerfile`. */
import type { TargetPlatform } from '../platform.js';

/** The instruction through which an image is read. */
export type ReadInstruction =
  | 'FROM' // a stage's base image
  | 'COPY' // COPY --from=<image>
  | 'ADD' // ADD --from=<image> (not produced: BuildKit rejects ADD --from, so analyzeDockerfile throws)
  | 'MOUNT' // RUN --mount=...,from=<image> (bind or cache mount)
  | 'SYNTAX' // the `# syntax=` frontend image
  | 'ONBUILD'; // an ONBUILD trigger's COPY --from / RUN --mount from: run by a stage FROM this stage, or carried in the final image to builds FROM it

export type StageBase =
  | { kind: 'image'; ref: string } // an image reference after ARG substitution, as written (not normalized)
  | { kind: 'stage'; index: number } // FROM <earlier stage name or index>
  | { kind: 'scratch' };

export interface Stage {
  /** 0-based position in the Dockerfile. */
  index: number;
  /** `AS name`, lower-cased as BuildKit matches it; undefined when unnamed. */
  name?: string;
  base: StageBase;
  /** `FROM --platform=...` value after substitution, when given. */
  platform?: string;
  /** 1-based line of the FROM instruction. */
  line: number;
  /** Whether the final stage (the build target) depends on this stage; BuildKit skips the others. */
  reachable: boolean;
  /** 1-based line of the stage's first RUN, when it has one: the build executes programs of the stage's platform. */
  runLine?: number;
}

export interface ImageRead {
  /** Stage name, or its index as a decimal string when unnamed; '' for the syntax frontend. */
  stage: string;
  /** -1 for the syntax frontend. */
  stageIndex: number;
  instruction: ReadInstruction;
  /** The image reference after ARG substitution, as written (not normalized). */
  ref: string;
  /** 1-based line of the instruction; 0 for a frontend set by the BUILDKIT_SYNTAX build arg. */
  line: number;
  /**
   * The platform the image is read for, when the stage says so (`FROM --platform=linux/amd64`, or
   * `$BUILDPLATFORM` substituted) and for the syntax frontend (the build platform); undefined means
   * the build's target platform.
   */
  platform?: string;
}

export interface DockerfileAnalysis {
  stages: Stage[];
  /**
   * Every image the build of the final stage reads, in Dockerfile order: FROMs, COPY/ADD --from,
   * RUN --mount from, the syntax frontend, and ONBUILD forms. Only reachable stages count.
   * Stage-to-stage references and `scratch` are not image reads.
   */
  reads: ImageRead[];
  /** The `# syntax=` directive value, when present. */
  syntax?: string;
  /**
   * The build reads or runs something that depends on the build host's platform (the syntax
   * frontend, FROM --platform=$BUILDPLATFORM, a stage's ARG BUILDARCH...): its analysis, reads and
   * key take `AnalyzeOptions.buildPlatform`.
   */
  buildPlatformDependent?: boolean;
  /**
   * Every name an ARG instruction declares, in any stage (sorted, distinct): the build args this
   * Dockerfile consumes. Undefined when unknown (then every build arg counts as consumed).
   */
  argNames?: string[];
  /**
   * What the build reads from its context (see context-sources.ts). Undefined when not analyzed:
   * then the whole context counts.
   */
  context?: ContextUse;
  /** Inputs the build reads that no build key can cover (`line N: …`), e.g. `ADD <url>` without --checksum. */
  warnings?: string[];
}

/** A path or pattern of the build context that a `COPY`, `ADD` or bind mount reads. */
export interface ContextSource {
  instruction: 'COPY' | 'ADD' | 'MOUNT';
  /** 1-based line of the instruction (of ONBUILD, for a trigger run in this build). */
  line: number;
  /**
   * Context-relative POSIX path after substitution and cleaning, as BuildKit resolves it; '' is the
   * whole context. May hold wildcards (`*`, `?`, `[...]`); a folder stands for everything in it.
   */
  path: string;
  /** The source as written, for messages. */
  written: string;
}

/** What of the context a build reads: the sources' files, or (when a source is known only at build time) all of it. */
export type ContextUse =
  | { kind: 'sources'; sources: ContextSource[] }
  /** `reason`: `line N: COPY $X: …`, why the sources cannot be known before the build. */
  | { kind: 'whole'; reason: string };

export interface AnalyzeOptions {
  /** The Dockerfile's path as shown in error messages. */
  file: string;
  /** The platform's build args; they override global ARG defaults. */
  buildArgs: Record<string, string>;
  /** Target platform, for BuildKit's automatic args (TARGETPLATFORM, TARGETOS, TARGETARCH, TARGETVARIANT, BUILDPLATFORM...). */
  platform?: TargetPlatform;
  /**
   * Build args given on the command line, whose values this analysis is not given: a context source
   * that depends on one is known only when the build runs.
   */
  opaqueArgs?: readonly string[];
  /** The engine's own platform, for BUILDPLATFORM/BUILDOS/BUILDARCH and the syntax frontend; default linux/amd64. */
  buildPlatform?: TargetPlatform;
}
