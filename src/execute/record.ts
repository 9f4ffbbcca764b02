/** The image-info record of a platform after the run, from its plan and what the run did. */
import { platformRecordIdentity, sameTagSet } from '../imageinfo/index.js';
import type { PlatformRecord } from '../imageinfo/types.js';
import type { PlatformPlan } from '../plan/types.js';
import type { PlatformOutcome } from './types.js';

/** `commitUrl`: ImageBuilder's link to the Dockerfile's commit, for a built image ('' when no repository is known). */
export function platformRecord(plan: PlatformPlan, outcome: PlatformOutcome, commitUrl = ''): PlatformRecord {
  const { platform } = plan;
  const fresh: PlatformRecord = {
    // ImageBuilder's spelling of the identity fields (osType `Linux`, architecture `arm32`), so its tools read ours.
    ...platformRecordIdentity(platform),
    // A record's own spelling of its Dockerfile stays; an image an earlier attempt pushed is recorded as the manifest names it now.
    dockerfile: (plan.pushedEarlier ? undefined : plan.previous?.dockerfile) ?? plan.dockerfile,
    simpleTags: outcome.tags,
    digest: outcome.digest,
    buildKey: plan.buildKey,
    fromImages: outcome.fromImages,
    inputs: plan.inputs,
  };
  if (outcome.action !== 'built') {
    // The image is the recorded one: keep what describes it, replace what describes the inputs.
    // `isUnchanged` as ImageBuilder sets it, because its publish job runs trimUnchangedPlatforms and
    // publishes nothing of an unchanged platform: a cached image whose tags differ from the record's
    // is not unchanged (its new tags are to be published), nor is one an earlier attempt of this CI leg
    // pushed (new to the image-info, as if built now).
    const kept: PlatformRecord = { ...(plan.previous ?? fresh), ...withoutUndefined(fresh) };
    if (plan.pushedEarlier || (plan.previous && !sameTagSet(plan.tags, plan.previous.simpleTags))) delete kept.isUnchanged;
    else kept.isUnchanged = true;
    if (plan.previous?.created) kept.created = plan.previous.created;
    // Required on every record ImageBuilder reads: the recorded image's, else (a record imagewright wrote before) the current one.
    kept.commitUrl = plan.previous?.commitUrl || commitUrl;
    return kept;
  }
  fresh.commitUrl = commitUrl;
  if (outcome.created) fresh.created = outcome.created;
  if (outcome.baseImageDigest) fresh.baseImageDigest = outcome.baseImageDigest;
  if (outcome.layers) fresh.layers = outcome.layers;
  return fresh;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
