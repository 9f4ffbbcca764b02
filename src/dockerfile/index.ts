export { analyzeDockerfile } from './analyze.js';
export { finalBaseStage, runSteps, type RunStep } from './stages.js';
export type { AnalyzeOptions, ContextSource, ContextUse, DockerfileAnalysis, ImageRead, ReadInstruction, Stage, StageBase } from './types.js';
