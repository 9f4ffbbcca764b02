/** Build matrices: legs for parallel CI jobs, and their CI renderings. */
export { computeLegs, findLeg, poolName } from './legs.js';
export { githubMatrix, githubOutputLines, matrixEntry, pathArgs, renderAzureMatrix, renderMatrixJson, type MatrixEntry } from './render.js';
export { legInput } from './input.js';
export type * from './types.js';
export { checkLegFiles, legStampOf, matrixPlan, parseMatrixPlan, planOption, type ExpectedLegs, type PlanMaterial, type StampedLegFile } from './stamp.js';
