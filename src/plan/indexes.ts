/**
 * The multi-arch indexes behind shared tags: which must be created or moved, and why. Pure, like the
 * rest of the planner: it sees the platform decisions, the previous image-info and (when the shell
 * fetched them) the entries of the recorded indexes.
 *
 * An index must be published when it never was, when its shared tags changed, when one of its
 * platforms rebuilds (a new digest), or when the recorded index no longer lists the platforms'
 * recorded digests (a leg pushed a platform but its index was never moved, the index went missing,
 * a platform left the image). Publishing is what `build --push` and `publish-manifest` do.
 */
import { digestOfReference, shortDigest } from '../digest.js';
import type { ImageInfo, ImageRecord, ManifestRecord, PlatformRecord } from '../imageinfo/types.js';
import { findPlatformRecord, sameTagSet } from '../imageinfo/index.js';
import { qualifiedTag, type Manifest, type ManifestImage } from '../manifest/types.js';
import { entryPlatform, formatPlatform, imageEntries, manifestTargetPlatform, pickPlatformEntry, type IndexEntry, type TargetPlatform } from '../platform.js';
import { movedTagDetail } from './explain.js';
import type { IndexPlan, IndexReason, PlanInput, PlatformPlan } from './types.js';

export function planIndexes(input: Pick<PlanInput, 'manifest' | 'previous' | 'indexes' | 'tags'>, platforms: ReadonlyMap<string, PlatformPlan>): IndexPlan[] {
  const plans: IndexPlan[] = [];
  for (const repo of input.manifest.repos) {
    repo.images.forEach((image, imageIndex) => {
      if (image.sharedTags.length === 0) return;
      plans.push(planIndex(input, repo.name, imageIndex, image, platforms));
    });
  }
  return plans;
}

function planIndex(
  input: Pick<PlanInput, 'manifest' | 'previous' | 'indexes' | 'tags'>,
  repo: string,
  imageIndex: number,
  image: ManifestImage,
  planned: ReadonlyMap<string, PlatformPlan>,
): IndexPlan {
  const base = { repo, imageIndex, sharedTags: [...image.sharedTags], platforms: image.platforms.map((p) => p.id) };
  const recorded = imageRecordOf(input.previous, repo, image)?.manifest;
  const tagList = image.sharedTags.join(', ');
  if (!recorded) {
    const detail = image.sharedTags.length === 1 ? `shared tag ${tagList} is new` : `shared tags ${tagList} are new`;
    return { ...base, action: 'create', reasons: [{ kind: 'new-index', detail }] };
  }
  if (!recorded.digest) {
    return { ...base, action: 'create', reasons: [{ kind: 'never-published', detail: `the index for ${tagList} was never published` }] };
  }
  const reasons: IndexReason[] = [];
  const added = image.sharedTags.filter((t) => !recorded.sharedTags.includes(t));
  const removed = recorded.sharedTags.filter((t) => !image.sharedTags.includes(t));
  if (added.length > 0 || removed.length > 0) {
    const parts = [added.length ? `new tag${added.length > 1 ? 's' : ''} ${added.join(', ')}` : '', removed.length ? `dropped ${removed.join(', ')}` : ''];
    reasons.push({ kind: 'tags-changed', detail: `shared tags changed: ${parts.filter((p) => p).join('; ')}`, added, removed });
  }
  const entries = input.indexes?.get(recorded.digest);
  if (entries === null) {
    reasons.push({ kind: 'index-missing', detail: `recorded index ${recorded.digest} is not in the registry`, digest: recorded.digest });
  } else {
    const moved = movedSharedTag(input, repo, image, recorded);
    if (moved) reasons.push(moved);
  }
  const listed = new Set<IndexEntry>();
  for (const platform of image.platforms) {
    const plan = planned.get(platform.id);
    if (plan?.decision === 'build') {
      reasons.push({ kind: 'platform-rebuilt', detail: `${platform.id} rebuilds: its digest changes`, platform: platform.id });
      const entry = entries ? pickPlatformEntry(entries, manifestTargetPlatform(platform)) : undefined;
      if (entry) listed.add(entry);
      continue;
    }
    if (!entries || !plan?.previous) continue;
    const entry = pickPlatformEntry(entries, manifestTargetPlatform(platform));
    if (entry) listed.add(entry);
    const now = digestOfReference(plan.previous.digest);
    if (entry?.digest === now) continue;
    const old = entry?.digest ?? '';
    reasons.push({
      kind: 'platform-digest-changed',
      detail: old
        ? `${platform.id} is ${shortDigest(now)}; the index lists ${shortDigest(old)}`
        : `${platform.id} (${shortDigest(now)}) is not in the index`,
      platform: platform.id,
      old,
      new: now,
    });
  }
  for (const entry of imageEntries(entries ?? [])) {
    if (listed.has(entry)) continue;
    const platform = formatPlatform(entryPlatform(entry) as TargetPlatform);
    reasons.push({ kind: 'platform-removed', detail: `the index lists ${platform}, which the image no longer has`, platform, old: entry.digest });
  }
  return { ...base, action: reasons.length > 0 ? 'move' : 'unchanged', reasons, previous: recorded.digest };
}

/** The checked shared tag (see recordedIndexes) when the registry has it naming another index, or not at all. */
function movedSharedTag(input: Pick<PlanInput, 'manifest' | 'tags'>, repo: string, image: ManifestImage, recorded: ManifestRecord): IndexReason | undefined {
  const tag = checkedSharedTag(image, recorded);
  const found = tag === undefined ? undefined : input.tags?.get(qualifiedTag(input.manifest, repo, tag));
  const digest = digestOfReference(recorded.digest ?? '');
  if (tag === undefined || found === undefined || found === digest) return undefined;
  return { kind: 'index-tag-moved', detail: movedTagDetail(`shared tag ${tag}`, found, digest, 'index'), tag, recorded: digest, found };
}

/** The shared tag that is checked for a recorded index: the first of its recorded shared tags the image still has. */
export function checkedSharedTag(image: Pick<ManifestImage, 'sharedTags'>, recorded: Pick<ManifestRecord, 'sharedTags'>): string | undefined {
  return image.sharedTags.find((t) => recorded.sharedTags.includes(t));
}

/** The image record holding one of the image's platforms (shared tags may have changed), else the one with the same shared tags. */
function imageRecordOf(info: ImageInfo | undefined, repo: string, image: ManifestImage): ImageRecord | undefined {
  const records = info?.repos.find((r) => r.repo === repo)?.images ?? [];
  for (const platform of image.platforms) {
    const record: PlatformRecord | undefined = findPlatformRecord(info, repo, platform);
    const owner = record && records.find((r) => r.platforms.includes(record));
    if (owner) return owner;
  }
  return records.find((r) => r.manifest && sameTagSet(r.manifest.sharedTags, image.sharedTags));
}

/**
 * The recorded indexes worth fetching (images with shared tags whose index was published), each with
 * the shared tag that should name it: the first of its recorded shared tags the image still has. One
 * GET of the tag answers both what the index lists and whether the tag still names it; only a tag
 * that moved costs a second request, for the recorded index itself.
 */
export function recordedIndexes(manifest: Manifest, previous: ImageInfo | undefined): RecordedIndexCheck[] {
  const checks = new Map<string, RecordedIndexCheck>();
  for (const repo of manifest.repos) {
    for (const image of repo.images) {
      if (image.sharedTags.length === 0) continue;
      const recorded = imageRecordOf(previous, repo.name, image)?.manifest;
      if (!recorded?.digest) continue;
      const tag = checkedSharedTag(image, recorded);
      const check: RecordedIndexCheck = tag === undefined ? { digest: recorded.digest } : { digest: recorded.digest, tag: qualifiedTag(manifest, repo.name, tag) };
      checks.set(`${check.digest} ${check.tag ?? ''}`, check);
    }
  }
  return [...checks.values()];
}

/** A recorded index the shell reads before the planner decides (see `recordedIndexes`). */
export interface RecordedIndexCheck {
  /** `<registry>/<repo>@sha256:…`, image-info's `manifest.digest`. */
  digest: string;
  /** `<registry>/<repo>:<shared tag>` that should name it. */
  tag?: string;
}
