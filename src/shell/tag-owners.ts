/**
 * One writer per tag. Two runs that keep different image-info files (two repositories, or two
 * manifests, sharing a registry and repo names) would otherwise push over each other's tags: each
 * file then records digests its tags no longer name, a reuse keeps an image the tag has left, and a
 * shared-tag index mixes platforms of both. Before `build --push` builds anything, every tag it is
 * going to move is looked up; one that holds an image imagewright built (its `dev.imagewright.*`
 * labels say so) which this run's image-info does not record, and whose build key is not the one
 * this run would push, belongs to another run: the build is refused, unless told to take the tags over.
 */
import { digestOfReference } from '../digest.js';
import { ImageNotFoundError, InputError } from '../errors.js';
import { readRecordLabels } from '../imageinfo/labels.js';
import type { ImageInfo } from '../imageinfo/types.js';
import { qualifiedTag, type Manifest } from '../manifest/types.js';
import { displayPath } from '../paths.js';
import type { Plan } from '../plan/types.js';
import { parseReference, pinnedReference, repositoryOf } from '../reference.js';
import { isIndexMediaType } from '../registry/index.js';
import { readImageConfig, type LabelReader } from './registry-state.js';

/** A tag this run is going to point somewhere, and the build keys of what it may already hold. */
export interface TagClaim {
  /** `<registry>/<repo>:<tag>`. */
  tag: string;
  /** Build keys this run would put there: the tag holding one of them is the same build, not another writer's. */
  keys: ReadonlySet<string>;
}

/** What another run left at a tag. */
export interface ForeignTag {
  tag: string;
  digest: string;
  buildKey: string;
  /** The Dockerfile its labels say it was built from, when they say. */
  dockerfile?: string;
}

/** The tags of the plan's pushes: platforms that build or gain tags, and the indexes this run publishes. */
export function tagClaims(manifest: Manifest, plan: Plan, skipped: ReadonlySet<string>): TagClaim[] {
  const claims: TagClaim[] = [];
  const selected = new Map(plan.platforms.filter((p) => !skipped.has(p.id)).map((p) => [p.id, p]));
  for (const platform of selected.values()) {
    const tags = platform.decision === 'build' ? platform.tags : platform.newTags;
    for (const tag of tags) claims.push({ tag: qualifiedTag(manifest, platform.platform.repo, tag), keys: new Set([platform.buildKey]) });
  }
  for (const index of plan.indexes) {
    if (index.action === 'unchanged' || !index.platforms.every((id) => selected.has(id))) continue;
    const keys = new Set(index.platforms.map((id) => selected.get(id)?.buildKey ?? ''));
    for (const tag of index.sharedTags) claims.push({ tag: qualifiedTag(manifest, index.repo, tag), keys });
  }
  return claims;
}

/** Every image and index digest (`sha256:...`) the image-info records. */
export function recordedDigests(info: ImageInfo | undefined): Set<string> {
  const digests = new Set<string>();
  for (const repo of info?.repos ?? []) {
    for (const image of repo.images) {
      if (image.manifest?.digest) digests.add(digestOfReference(image.manifest.digest));
      for (const platform of image.platforms) if (platform.digest) digests.add(digestOfReference(platform.digest));
    }
  }
  return digests;
}

/**
 * The claimed tags that hold another run's image, looked up in parallel (one HEAD per tag, more only
 * for a stranger). `known`: what the plan found at tags it looked at (`sha256:…`, '' for none), not asked again.
 */
export async function foreignTags(
  claims: readonly TagClaim[],
  recorded: ReadonlySet<string>,
  registry: LabelReader,
  known: ReadonlyMap<string, string> = new Map(),
): Promise<ForeignTag[]> {
  const found = await Promise.all(claims.map((claim) => foreignAt(claim, recorded, registry, known.get(claim.tag))));
  return found.filter((f): f is ForeignTag => f !== undefined);
}

async function foreignAt(claim: TagClaim, recorded: ReadonlySet<string>, registry: LabelReader, known: string | undefined): Promise<ForeignTag | undefined> {
  const digest = known ?? (await registry.headManifest(claim.tag))?.digest;
  if (!digest || recorded.has(digest)) return undefined;
  const head = { digest };
  const parsed = parseReference(claim.tag);
  if (!parsed) return undefined;
  const repo = repositoryOf(parsed);
  let answer;
  try {
    answer = await registry.getManifest(pinnedReference(repo, head.digest));
    if (isIndexMediaType(answer.mediaType)) {
      // An index: its first image says who built them.
      const first = ((JSON.parse(answer.body.toString('utf8')) as { manifests?: Array<{ digest?: string }> }).manifests ?? [])[0]?.digest;
      if (!first) return undefined;
      answer = await registry.getManifest(pinnedReference(repo, first));
    }
  } catch (err) {
    // Moved or deleted since the HEAD: nothing to take over.
    if (err instanceof ImageNotFoundError) return undefined;
    throw err;
  }
  const config = await readImageConfig(registry, repo, answer.body);
  const labels = readRecordLabels(config?.config?.Labels ?? {}, claim.tag);
  // Not built by imagewright (ImageBuilder, by hand): replacing it is the usual first run, not a mix.
  if (!labels || claim.keys.has(labels.buildKey)) return undefined;
  const dockerfile = labels.platforms?.[0]?.dockerfile;
  return { tag: claim.tag, digest: head.digest, buildKey: labels.buildKey, ...(dockerfile ? { dockerfile } : {}) };
}

/** The refusal: names the image-info file, the first foreign tag, and what to do. */
export function foreignTagError(imageInfoFile: string, foreign: readonly ForeignTag[]): InputError {
  const [first] = foreign;
  if (!first) throw new Error('internal: no foreign tag to report');
  const from = first.dockerfile ? ` built from ${first.dockerfile}` : '';
  const more = foreign.length > 1 ? ` (and ${foreign.length - 1} more tag(s))` : '';
  return new InputError(
    displayPath(imageInfoFile),
    first.tag,
    `the tag holds ${first.digest}${from}, which another run pushed (its labels carry build key ${first.buildKey}) and this file does not record${more}; ` +
      'two runs with different image-info files push the same tags. Give each its own --repo-prefix or registry, or pass --take-over-tags to move them to this run',
  );
}

/** One line per tag taken over, for the warning under --take-over-tags. */
export function takeOverWarning(foreign: readonly ForeignTag[]): string {
  const tags = foreign.map((f) => `${f.tag} (${f.digest}${f.dockerfile ? `, built from ${f.dockerfile}` : ''})`).join(', ');
  return `--take-over-tags: moving tag(s) another run pushed, which its image-info will no longer match: ${tags}`;
}
