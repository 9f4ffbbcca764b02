/**
 * Questions about a Dockerfile's analysed stages that the build asks: which stage the image is built
 * on, and on which platform each stage's RUN steps execute. Pure.
 */
import type { DockerfileAnalysis, Stage } from './types.js';

/** The stage whose base image the final image is built on: the final stage, followed through `FROM <stage>`. */
export function finalBaseStage(analysis: DockerfileAnalysis): Stage | undefined {
  let stage = analysis.stages[analysis.stages.length - 1];
  const seen = new Set<number>();
  while (stage && stage.base.kind === 'stage' && !seen.has(stage.index)) {
    seen.add(stage.index);
    const baseIndex = stage.base.index;
    stage = analysis.stages.find((s) => s.index === baseIndex);
  }
  return stage;
}

/** A RUN step and the platform whose programs it executes. */
export interface RunStep {
  /** 1-based line of the stage's first RUN. */
  line: number;
  /** The stage's `--platform` (its own, or inherited from the stage it is built FROM); undefined: the build's target. */
  platform?: string;
}

/**
 * The first RUN of every stage the build runs, with the platform it executes on. As in BuildKit, a
 * stage built `FROM` another stage runs on that stage's platform unless it names its own.
 */
export function runSteps(analysis: DockerfileAnalysis): RunStep[] {
  const byIndex = new Map(analysis.stages.map((s) => [s.index, s]));
  const platformOf = (stage: Stage, seen: Set<number>): string | undefined => {
    if (stage.platform !== undefined) return stage.platform;
    if (stage.base.kind !== 'stage' || seen.has(stage.index)) return undefined;
    seen.add(stage.index);
    const base = byIndex.get(stage.base.index);
    return base ? platformOf(base, seen) : undefined;
  };
  return analysis.stages.flatMap((stage) => {
    if (!stage.reachable || stage.runLine === undefined) return [];
    const platform = platformOf(stage, new Set());
    return [platform === undefined ? { line: stage.runLine } : { line: stage.runLine, platform }];
  });
}
