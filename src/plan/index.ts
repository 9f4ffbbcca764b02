export { BUILD_KEY_VERSION, buildKey, canonicalJson, resolutionKey, type BuildKeyMaterial, type KeyRead } from './key.js';
export { computeKeys, externalResolutions, type KeyedPlatform } from './keys.js';
export { planBuilds, reuseCandidates, toFromImages } from './planner.js';
export { renderPlanJson, renderPlanText } from './render.js';
export type { Decision, Plan, PlanInput, PlatformPlan, PlatformSources, Reason, ReasonKind } from './types.js';
