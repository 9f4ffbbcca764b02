export { analyzeDockerfile } from './analyze.js';
export type { AnalyzeOptions, DockerfileAnalysis, ImageRead, ReadInstruction, Stage, StageBase } from './types.js';
