/**
 * The planner: for every platform, build or reuse, and why. Pure; the shell gathers every input first.
 *
 * A platform rebuilds exactly when its build key differs from the recorded one (or it has no usable
 * record, or its recorded image is gone, or --no-cache). An upstream that rebuilds with an unchanged
 * key (its image went missing, or --no-cache) does not rebuild its dependents: their keys, which hold
 * the upstream's key and not its digest, are unchanged, and the images they were built from are
 * equivalent by construction.
 */
import { digestOfReference, shortDigest } from '../digest.js';
import type { FromImageRecord, PlatformRecord } from '../imageinfo/types.js';
import { qualifiedTag, type ManifestPlatform } from '../manifest/types.js';
import { explainKeyChange, movedTagDetail } from './explain.js';
import { planIndexes } from './indexes.js';
import { computeKeys, type KeyedPlatform, type Keys } from './keys.js';
import type { MovedTag, Plan, PlanInput, PlatformPlan, PushedImage, Reason, RecordedImageCheck } from './types.js';

/** `keys`: computeKeys(input), when the caller has them already (the shell computes them once per plan). */
export function planBuilds(input: PlanInput, keys: Keys = computeKeys(input)): Plan {
  const planned = new Map<string, PlatformPlan>();
  for (const keyed of keys.values()) {
    planned.set(keyed.platform.id, planPlatform(keyed, input, planned));
  }
  return { platforms: [...planned.values()], indexes: planIndexes(input, planned) };
}

/**
 * The recorded images whose existence decides between reuse and `image-missing`: those of platforms
 * whose key is unchanged (the others rebuild whatever the registry says), each with the platform tag
 * that should name it. One request per recorded image answers both questions: when the tag names the
 * image, the image exists and the tag is right; only otherwise is the digest asked for.
 */
export function reuseCandidates(input: Omit<PlanInput, 'existing'>, keys: Keys = computeKeys(input)): RecordedImageCheck[] {
  if (input.noCache) return [];
  const candidates = new Map<string, RecordedImageCheck>();
  for (const { key, record, platform } of keys.values()) {
    if (!record || !reusable(key, record)) continue;
    const tag = checkedTag(platform, record);
    const check: RecordedImageCheck = tag === undefined ? { digest: record.digest } : { digest: record.digest, tag: qualifiedTag(input.manifest, platform.repo, tag) };
    candidates.set(`${check.digest} ${check.tag ?? ''}`, check);
  }
  return [...candidates.values()];
}

/**
 * The platforms that build unless the registry says otherwise: no record, a record of another key or
 * without an image, or --no-cache. The registry's answers can add builds (an image gone) and, but
 * for --no-cache, take some away (an image an earlier attempt pushed, see pushCandidates): these
 * are what the engine is readied for before it is asked; the plan itself waits for the answers.
 */
export function certainBuilds(input: Pick<PlanInput, 'noCache'>, keys: Keys): ManifestPlatform[] {
  return [...keys.values()].filter(({ key, record }) => input.noCache || !reusable(key, record)).map(({ platform }) => platform);
}

/** A record the platform may be reused from, if the registry still has its image: same key, an image recorded. */
export function reusable(key: string, record: PlatformRecord | undefined): boolean {
  return record?.buildKey === key && !!record.digest;
}

/**
 * Where an earlier attempt of this CI leg may have left an image no image-info records (PlanInput.pushed):
 * the first tag of each platform whose record does not match its key. The tag naming the recorded
 * image (an ordinary rebuild) answers with one HEAD; only another image there is read further.
 */
export function pushCandidates(input: Omit<PlanInput, 'existing'>, keys: Keys = computeKeys(input)): PushCandidate[] {
  if (input.noCache) return [];
  const candidates: PushCandidate[] = [];
  for (const { key, record, platform } of keys.values()) {
    const [tag] = platform.tags;
    // A record of this key with its image is checked by reuseCandidates; one without an image may have been pushed since.
    if (tag === undefined || reusable(key, record)) continue;
    const candidate: PushCandidate = { id: platform.id, tag: qualifiedTag(input.manifest, platform.repo, tag) };
    if (record?.digest) candidate.recorded = digestOfReference(record.digest);
    candidates.push(candidate);
  }
  return candidates;
}

export interface PushCandidate {
  /** Platform id. */
  id: string;
  /** `<registry>/<repo>:<tag>`, the platform's first tag. */
  tag: string;
  /** `sha256:…` of the recorded image, which the tag names when nothing was pushed since. */
  recorded?: string;
}

/** The tag that is checked for a record: the first of its tags the platform still has. */
function checkedTag(platform: ManifestPlatform, record: PlatformRecord): string | undefined {
  return platform.tags.find((t) => record.simpleTags.includes(t));
}

/** The checked tag of a reused record, when the registry has it naming another image, or not at all. */
function movedTags(platform: ManifestPlatform, record: PlatformRecord, input: PlanInput): MovedTag[] {
  const tag = checkedTag(platform, record);
  const found = tag === undefined ? undefined : input.tags?.get(qualifiedTag(input.manifest, platform.repo, tag));
  const recorded = digestOfReference(record.digest);
  if (tag === undefined || found === undefined || found === recorded) return [];
  return [{ tag, recorded, found, detail: movedTagDetail(`tag ${tag}`, found, recorded, 'image') }];
}

function planPlatform(keyed: KeyedPlatform, input: PlanInput, planned: ReadonlyMap<string, PlatformPlan>): PlatformPlan {
  const { platform } = keyed;
  const fromImages = toFromImages(keyed, planned);
  const reasons = decisionReasons(keyed, input, fromImages, planned);
  if (input.noCache) reasons.push({ kind: 'no-cache', detail: '--no-cache: every image builds' });
  const pushed = reasons.length > 0 && !input.noCache ? pushedEarlier(keyed, input, fromImages) : undefined;
  const record = pushed?.record ?? keyed.record;
  const decision = reasons.length > 0 && !pushed ? 'build' : 'reuse';
  const plan: PlatformPlan = {
    id: platform.id,
    platform,
    dockerfile: platform.dockerfile,
    tags: platform.tags,
    decision,
    reasons: decision === 'build' ? reasons : [],
    buildKey: keyed.key,
    fromImages,
    inputs: keyed.inputs,
    newTags: decision === 'reuse' && record ? platform.tags.filter((t) => !record.simpleTags.includes(t)) : [],
    movedTags: decision === 'reuse' && record ? movedTags(platform, record, input) : [],
  };
  if (record) plan.previous = record;
  if (pushed) {
    const digest = digestOfReference(pushed.record.digest);
    const detail = `${pushed.tag} holds ${shortDigest(digest)}, which an earlier attempt of this leg pushed (its labels carry this plan and this build key); the image-info does not record it`;
    plan.pushedEarlier = { tag: pushed.tag, digest, detail, instead: reasons };
  }
  return plan;
}

/**
 * The image an earlier attempt of this very build pushed, when the shell found one at the platform's
 * tag: its labels carry the key this plan computed (so every input, external digests included, is the
 * same), and each image of this manifest it read is the one this plan reads (an upstream that
 * rebuilds, or whose image is another, makes it stale whatever its key says).
 */
function pushedEarlier(keyed: KeyedPlatform, input: PlanInput, fromImages: readonly FromImageRecord[]): PushedImage | undefined {
  const pushed = input.pushed?.get(keyed.platform.id);
  if (!pushed || pushed.record.buildKey !== keyed.key || !pushed.record.digest) return undefined;
  const readSame = fromImages.every((read) => {
    if (!read.internal) return true;
    if (!read.digest) return false;
    const built = (pushed.record.fromImages ?? []).find((r) => r.internal && r.ref === read.ref && r.instruction === read.instruction && r.stage === read.stage);
    return built !== undefined && digestOfReference(built.digest) === digestOfReference(read.digest);
  });
  return readSame ? pushed : undefined;
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
