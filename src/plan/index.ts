export { BUILD_KEY_VERSION, buildKey, type BuildKeyMaterial, type KeyRead } from '../build-key.js';
export { computeKeys, externalResolutions, resolutionKey, type KeyedPlatform, type Keys } from './keys.js';
export { certainBuilds, planBuilds, pushCandidates, reusable, reuseCandidates, type PushCandidate } from './planner.js';
export { checkedSharedTag, recordedIndexes, type RecordedIndexCheck } from './indexes.js';
export { indexName, planCounts, planHasWork, planJson, platformHasWork, renderPlanJson, renderPlanText, tagsToPut, type KeyedInputs, type PlanJson, type PlanJsonPlatform } from './render.js';
export type { Decision, IndexPlan, IndexReason, MovedTag, Plan, PlanInput, PlatformPlan, PlatformSources, PushedEarlier, PushedImage, Reason, ReasonKind, RecordedImageCheck } from './types.js';
export { filteredGraph, filteredPlan, legPlatforms, partlySelectedImages, selectLeg, selectPlatforms, type DeferredIndexes, type PlatformFilter } from './select.js';
