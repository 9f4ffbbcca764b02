export { BUILD_KEY_VERSION, buildKey, type BuildKeyMaterial, type KeyRead } from '../build-key.js';
export { computeKeys, externalResolutions, resolutionKey, type KeyedPlatform, type Keys } from './keys.js';
export { planBuilds, reuseCandidates } from './planner.js';
export { renderPlanJson, renderPlanText } from './render.js';
export type { Decision, Plan, PlanInput, PlatformPlan, PlatformSources, Reason, ReasonKind } from './types.js';
