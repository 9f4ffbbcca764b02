/** The image-info record of a platform after the run, from its plan and what the run did. */
import type { PlatformRecord } from '../imageinfo/types.js';
import type { PlatformPlan } from '../plan/types.js';
import type { PlatformOutcome } from './types.js';

export function platformRecord(plan: PlatformPlan, outcome: PlatformOutcome): PlatformRecord {
  const { platform } = plan;
  const fresh: PlatformRecord = {
    dockerfile: plan.previous?.dockerfile ?? plan.dockerfile,
    simpleTags: outcome.tags,
    digest: outcome.digest,
    osType: capitalize(platform.os),
    osVersion: platform.osVersion,
    architecture: platform.architecture,
    buildKey: plan.buildKey,
    fromImages: outcome.fromImages,
    inputs: plan.inputs,
  };
  if (platform.variant) fresh.variant = platform.variant;
  if (outcome.action !== 'built') {
    // The image is the recorded one: keep what describes it, replace what describes the inputs.
    const kept: PlatformRecord = { ...(plan.previous ?? fresh), ...withoutUndefined(fresh), isUnchanged: true };
    if (plan.previous?.created) kept.created = plan.previous.created;
    return kept;
  }
  if (outcome.created) fresh.created = outcome.created;
  if (outcome.baseImageDigest) fresh.baseImageDigest = outcome.baseImageDigest;
  if (outcome.layers) fresh.layers = outcome.layers;
  return fresh;
}

function capitalize(os: string): string {
  return os ? `${os[0]?.toUpperCase() ?? ''}${os.slice(1)}` : os;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
