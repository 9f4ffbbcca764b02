/**
 * The planner: for every platform, build or reuse, and why. Pure; the shell gathers every input first.
 *
 * A platform rebuilds exactly when its build key differs from the recorded one (or it has no usable
 * record, or its recorded image is gone, or --no-cache). An upstream that rebuilds with an unchanged
 * key (its image went missing, or --no-cache) does not rebuild its dependents: their keys, which hold
 * the upstream's key and not its digest, are unchanged, and the images they were built from are
 * equivalent by construction.
 */
import { digestOfReference } from '../digest.js';
import type { FromImageRecord, PlatformRecord } from '../imageinfo/types.js';
import { explainKeyChange } from './explain.js';
import { planIndexes } from './indexes.js';
import { computeKeys, type KeyedPlatform, type Keys } from './keys.js';
import type { Plan, PlanInput, PlatformPlan, Reason } from './types.js';

/** `keys`: computeKeys(input), when the caller has them already (the shell computes them once per plan). */
export function planBuilds(input: PlanInput, keys: Keys = computeKeys(input)): Plan {
  const planned = new Map<string, PlatformPlan>();
  for (const keyed of keys.values()) {
    planned.set(keyed.platform.id, planPlatform(keyed, input, planned));
  }
  return { platforms: [...planned.values()], indexes: planIndexes(input, planned) };
}

/**
 * The recorded image digests whose existence decides between reuse and `image-missing`: those of
 * platforms whose key is unchanged. The others rebuild whatever the registry says.
 */
export function reuseCandidates(input: Omit<PlanInput, 'existing'>, keys: Keys = computeKeys(input)): string[] {
  if (input.noCache) return [];
  const candidates = new Set<string>();
  for (const { key, record } of keys.values()) {
    if (record?.buildKey === key && record.digest) candidates.add(record.digest);
  }
  return [...candidates];
}

function planPlatform(keyed: KeyedPlatform, input: PlanInput, planned: ReadonlyMap<string, PlatformPlan>): PlatformPlan {
  const { platform, record } = keyed;
  const fromImages = toFromImages(keyed, planned);
  const reasons = decisionReasons(keyed, input, fromImages, planned);
  if (input.noCache) reasons.push({ kind: 'no-cache', detail: '--no-cache: every image builds' });
  const decision = reasons.length > 0 ? 'build' : 'reuse';
  const plan: PlatformPlan = {
    id: platform.id,
    platform,
    dockerfile: platform.dockerfile,
    tags: platform.tags,
    decision,
    reasons,
    buildKey: keyed.key,
    fromImages,
    inputs: keyed.inputs,
    newTags: decision === 'reuse' && record ? platform.tags.filter((t) => !record.simpleTags.includes(t)) : [],
  };
  if (record) plan.previous = record;
  return plan;
}

/** Everything except --no-cache, which applies to all platforms alike. */
function decisionReasons(
  keyed: KeyedPlatform,
  input: PlanInput,
  fromImages: FromImageRecord[],
  planned: ReadonlyMap<string, PlatformPlan>,
): Reason[] {
  const { record } = keyed;
  if (!record) {
    const detail = input.previous ? 'not in the previous image-info' : 'no previous image-info';
    return [{ kind: 'new', detail }];
  }
  if (record.buildKey === undefined) {
    return [{ kind: 'no-build-key', detail: 'recorded by ImageBuilder without a build key; rebuilt once to record one' }];
  }
  if (record.buildKey !== keyed.key) return explainKeyChange(keyed, { ...record, buildKey: record.buildKey }, fromImages, planned);
  if (input.noCache) return [];
  return imageMissing(record, input.existing);
}

function imageMissing(record: PlatformRecord, existing: ReadonlySet<string>): Reason[] {
  if (!record.digest) return [{ kind: 'image-missing', detail: 'the record has no image digest (never pushed)', digest: '' }];
  if (existing.has(record.digest)) return [];
  return [{ kind: 'image-missing', detail: `recorded image ${record.digest} is not in the registry`, digest: record.digest }];
}

/**
 * The reads as image-info records them. Internal images enter with their build key and, when the
 * upstream is reused, its recorded digest; an upstream about to build has no digest yet ('').
 */
function toFromImages(keyed: KeyedPlatform, planned: ReadonlyMap<string, PlatformPlan>): FromImageRecord[] {
  return keyed.material.reads.map(({ source, ...read }, i) => {
    if (source.kind === 'image') return { ...read, digest: source.digest, internal: false };
    const upstream = planned.get(keyed.reads[i]?.internal ?? '');
    const digest = upstream?.decision === 'reuse' ? digestOfReference(upstream.previous?.digest ?? '') : '';
    return { ...read, digest, internal: true, buildKey: source.buildKey };
  });
}
