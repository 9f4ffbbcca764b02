/**
 * An image-info changed record by record, as a build run changes it: one platform's record or one
 * image's index at a time, each found through indexes rather than by scanning the repo, and the
 * file's text assembled from each image's text, computed once per version of the image. N updates
 * and a write cost about N, where rebuilding the image-info per update cost N².
 *
 * Where a record goes follows the rules in update.ts (which applies them through this class):
 * an image is found by its shared tags, else by a platform the identity rule (match.ts) matches;
 * candidates come from the identity buckets, and the rule decides among them.
 *
 * Image records are never changed in place: an update replaces the image's record in its slot, so
 * records handed out (and the text cached for them) stay valid.
 */
import { equivalentProductVersions, identityBucket, recordAsPlatformKey, recordBelongsTo, recordMatchesPlatform, sameRecordIdentity, sameTagSet, sameTagState, type PlatformKey } from './match.js';
import type { ImageInfo, ImageRecord, ManifestRecord, PlatformRecord, RepoRecord } from './types.js';
import { serializeImage, serializeImageInfo } from './write.js';

/** What identifies an image of a repo: a ManifestImage fits. */
export interface ImageKey {
  productVersion?: string;
  sharedTags: string[];
  /** The manifest image's platforms; used to find the image record when shared tags do not. */
  platforms?: PlatformKey[];
  /**
   * `platforms` are all of the image's platforms, with their tags (the manifest's image): a record of
   * the image that none of them claims is stale (its tags were renamed) and a new record replaces it.
   */
  complete?: boolean;
}

/** Where one image record lives; stays put when the record is replaced. */
interface Slot {
  image: ImageRecord;
}

interface RepoState {
  /** The repo record's other fields (`repo`, and any this module does not know). */
  fields: Omit<RepoRecord, 'images'>;
  slots: Slot[];
  /** Built on first use: slots by their index's shared tags, and by the identity buckets of their records. May hold stale entries; candidates are checked. */
  byTags?: Map<string, Set<Slot>>;
  byBucket?: Map<string, Set<Slot>>;
  /** Whether the slots are in sort order (#sortKey); undefined until first needed. */
  sorted?: boolean;
}

export class ImageInfoDocument {
  readonly #fields: Omit<ImageInfo, 'repos'>;
  readonly #repos: RepoState[];
  readonly #byName = new Map<string, RepoState>();
  /** Each image version's text in the file, by indent (always the same in practice). */
  readonly #texts = new Map<string, WeakMap<ImageRecord, string>>();
  /** Each image version's sort key (compareImages), computed once. */
  readonly #sortKeys = new WeakMap<ImageRecord, string>();
  #serializedChars = 0;

  constructor(info: ImageInfo) {
    const { repos, ...fields } = info;
    this.#fields = fields;
    this.#repos = repos.map(({ images, ...repoFields }) => ({ fields: repoFields, slots: images.map((image) => ({ image })) }));
    // As a scan would: the first repo record of a name is the one found.
    for (const state of this.#repos) if (!this.#byName.has(state.fields.repo)) this.#byName.set(state.fields.repo, state);
  }

  /** Characters of JSON this document has produced (image texts and whole files): what its writes cost. */
  get serializedChars(): number {
    return this.#serializedChars;
  }

  /** `record` as the record of its platform in the image `imageKey` of `repo`, replacing any previous one whole. Whether the file's text changed. */
  upsertPlatform(repo: string, imageKey: ImageKey, record: PlatformRecord): boolean {
    return this.#updateImage(repo, imageKey, [record], (image) => withPlatformRecord(image, imageKey, record));
  }

  /** `manifest` as the multi-arch index record of the image `imageKey` of `repo`. Whether the file's text changed. */
  setManifest(repo: string, imageKey: ImageKey, manifest: ManifestRecord): boolean {
    return this.#updateImage(repo, imageKey, [], (image) => ({ ...image, manifest }));
  }

  /** The first image of `repo` whose index has exactly these shared tags. */
  imageWithSharedTags(repo: string, sharedTags: readonly string[]): ImageRecord | undefined {
    const state = this.#byName.get(repo);
    return state ? this.#bySharedTags(state, sharedTags)?.image : undefined;
  }

  /** The image-info as it stands; later updates do not change it. */
  toInfo(): ImageInfo {
    return { ...this.#fields, repos: this.#repos.map((state) => ({ ...state.fields, images: state.slots.map((slot) => slot.image) }) as RepoRecord) } as ImageInfo;
  }

  /** The file's text (`serializeImageInfo`), reusing the text of every image that did not change. */
  serialize(): string {
    const text = serializeImageInfo(this.toInfo(), (image, indent) => this.#imageText(image, indent));
    this.#serializedChars += text.length;
    return text;
  }

  #imageText(image: ImageRecord, indent = IMAGE_INDENT): string {
    let byImage = this.#texts.get(indent);
    if (!byImage) this.#texts.set(indent, (byImage = new WeakMap()));
    let text = byImage.get(image);
    if (text === undefined) {
      text = serializeImage(image, indent);
      this.#serializedChars += text.length;
      byImage.set(image, text);
    }
    return text;
  }

  #updateImage(repo: string, imageKey: ImageKey, records: PlatformRecord[], change: (image: ImageRecord) => ImageRecord): boolean {
    const state = this.#repo(repo);
    const slot = this.#findImage(state, imageKey, records);
    if (slot) {
      const before = slot.image;
      const wasSorted = this.#isSorted(state);
      slot.image = change(before);
      if (this.#sortKey(slot.image) !== this.#sortKey(before)) {
        // A platform added in front moves the image, so that the order of a sorted file does not
        // depend on the order in which builds finished. Otherwise (a new product version, an
        // unsorted file) the image keeps its place, as ImageBuilder keeps it.
        if (wasSorted && slot.image.productVersion === before.productVersion && slot.image.platforms.length > before.platforms.length) {
          state.slots.splice(state.slots.indexOf(slot), 1);
          state.slots.splice(this.#insertionPoint(state, this.#sortKey(slot.image)), 0, slot);
        } else {
          state.sorted = undefined;
        }
      }
      this.#index(state, slot);
      return this.#imageText(slot.image) !== this.#imageText(before);
    }
    const fresh: ImageRecord = { platforms: [] };
    if (imageKey.productVersion !== undefined) fresh.productVersion = imageKey.productVersion;
    const added: Slot = { image: change(fresh) };
    state.slots.splice(this.#insertionPoint(state, this.#sortKey(added.image)), 0, added);
    this.#index(state, added);
    return true;
  }

  /** Before the first slot that sorts after `key`: a binary search while the slots are in order (as imagewright writes them), else a scan. */
  #insertionPoint(state: RepoState, key: string): number {
    const { slots } = state;
    if (!this.#isSorted(state)) {
      const at = slots.findIndex((existing) => key < this.#sortKey(existing.image));
      return at < 0 ? slots.length : at;
    }
    let [low, high] = [0, slots.length];
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (key < this.#sortKey((slots[middle] as Slot).image)) high = middle;
      else low = middle + 1;
    }
    return low;
  }

  /** Whether the repo's images are in sort order (computed once; kept true by sorted insertion, and false for a file written in another order). */
  #isSorted(state: RepoState): boolean {
    const { slots } = state;
    state.sorted ??= slots.every((slot, i) => i === 0 || this.#sortKey((slots[i - 1] as Slot).image) <= this.#sortKey(slot.image));
    return state.sorted;
  }

  /** The repo's state, inserted in sorted position when the file has no such repo yet. */
  #repo(repo: string): RepoState {
    let state = this.#byName.get(repo);
    if (state) return state;
    state = { fields: { repo }, slots: [], byTags: new Map(), byBucket: new Map() };
    let at = this.#repos.findIndex((existing) => repo < existing.fields.repo);
    if (at < 0) at = this.#repos.length;
    this.#repos.splice(at, 0, state);
    this.#byName.set(repo, state);
    return state;
  }

  /** ImageBuilder's rule: the image with the same shared tags, else one with a platform the key's platforms match. */
  #findImage(state: RepoState, key: ImageKey, records: PlatformRecord[]): Slot | undefined {
    if (key.sharedTags.length > 0) {
      const byTags = this.#bySharedTags(state, key.sharedTags);
      if (byTags) return byTags;
    }
    const platforms = key.platforms ?? records.map(recordAsPlatformKey);
    const candidates = new Set<Slot>();
    for (const platform of platforms) for (const slot of this.#indexes(state).byBucket.get(identityBucket(platform.dockerfile, platform.os)) ?? []) candidates.add(slot);
    const matching = [...candidates].filter((slot) => imageCandidate(slot.image, key));
    // The image holding a record of one of our platforms; else (a platform new to its image) one holding
    // a record ImageBuilder would take for one of them.
    const owning = firstInFile(
      state,
      matching.filter((slot) => slot.image.platforms.some((record) => platforms.some((p) => recordBelongsTo(record, slot.image, { ...p, productVersion: slot.image.productVersion })))),
    );
    return owning ?? firstInFile(state, matching.filter((slot) => slot.image.platforms.some((record) => platforms.some((p) => recordMatchesPlatform(record, p) && sameTagState(record, p) !== false))));
  }

  #bySharedTags(state: RepoState, sharedTags: readonly string[]): Slot | undefined {
    const candidates = this.#indexes(state).byTags.get(tagsKey(sharedTags)) ?? [];
    return firstInFile(state, [...candidates].filter((slot) => sameTagSet(slot.image.manifest?.sharedTags ?? [], sharedTags)));
  }

  #indexes(state: RepoState): Required<Pick<RepoState, 'byTags' | 'byBucket'>> {
    if (!state.byTags || !state.byBucket) {
      state.byTags = new Map();
      state.byBucket = new Map();
      for (const slot of state.slots) this.#index(state, slot);
    }
    return { byTags: state.byTags, byBucket: state.byBucket };
  }

  /** Adds the slot under its image's current shared tags and identity buckets (earlier entries stay; lookups check). */
  #index(state: RepoState, slot: Slot): void {
    if (!state.byTags || !state.byBucket) return; // built from the slots on first use
    const sharedTags = slot.image.manifest?.sharedTags;
    if (sharedTags && sharedTags.length > 0) addTo(state.byTags, tagsKey(sharedTags), slot);
    for (const record of slot.image.platforms) addTo(state.byBucket, identityBucket(record.dockerfile, record.osType), slot);
  }

  /** compareImages as one string: product version, then the first platform identifier. */
  #sortKey(image: ImageRecord): string {
    let key = this.#sortKeys.get(image);
    if (key === undefined) {
      const first = image.platforms.map(platformIdentifier).sort(compareStrings)[0] ?? '';
      key = `${image.productVersion ?? ''}\u0000${first}`;
      this.#sortKeys.set(image, key);
    }
    return key;
  }
}

/** The indent of an image record in the file: top object, `repos` list, repo object, `images` list. */
const IMAGE_INDENT = ' '.repeat(6);

/** `image` with `record` as its platform's record (replacing the one the identity rule matches, else inserted in sorted position). */
export function withPlatformRecord(image: ImageRecord, imageKey: ImageKey, record: PlatformRecord): ImageRecord {
  const platforms = [...image.platforms];
  let index = platforms.findIndex((existing) => sameRecordIdentity(existing, record, image));
  if (index < 0 && imageKey.complete) index = platforms.findIndex((existing) => isStaleRecordOf(existing, record, image, imageKey));
  if (index >= 0) platforms[index] = record;
  else {
    let at = platforms.findIndex((existing) => compareStrings(platformIdentifier(record), platformIdentifier(existing)) < 0);
    if (at < 0) at = platforms.length;
    platforms.splice(at, 0, record);
  }
  const updated: ImageRecord = { ...image, platforms };
  if (imageKey.productVersion !== undefined) updated.productVersion = imageKey.productVersion;
  else delete updated.productVersion;
  // As ImageBuilder does for an image with shared tags: the index is recorded, digest unknown until pushed.
  if (!updated.manifest && imageKey.sharedTags.length > 0) updated.manifest = { digest: '', sharedTags: [...imageKey.sharedTags] };
  return updated;
}

/** `existing` is what ImageBuilder would take for `record`'s platform, and no platform of the image claims it. */
function isStaleRecordOf(existing: PlatformRecord, record: PlatformRecord, image: ImageRecord, imageKey: ImageKey): boolean {
  const key = recordAsPlatformKey(record);
  if (!recordMatchesPlatform(existing, key) || sameTagState(existing, key) === false) return false;
  return !(imageKey.platforms ?? []).some((p) => recordBelongsTo(existing, image, { ...p, productVersion: image.productVersion }));
}

/** Whether `image` may be the image `key` names (product version, and no index of other shared tags). */
function imageCandidate(image: ImageRecord, key: ImageKey): boolean {
  return (
    equivalentProductVersions(image.productVersion, key.productVersion) &&
    // An index with none of our shared tags is another image, however alike its platforms.
    !(key.sharedTags.length > 0 && (image.manifest?.sharedTags.length ?? 0) > 0 && !image.manifest?.sharedTags.some((t) => key.sharedTags.includes(t)))
  );
}

/** Of slots of one repo, the one that comes first in the file (positions are looked up only when there is a choice). */
function firstInFile(state: RepoState, slots: Slot[]): Slot | undefined {
  if (slots.length <= 1) return slots[0];
  return slots.map((slot) => ({ slot, at: state.slots.indexOf(slot) })).sort((a, b) => a.at - b.at)[0]?.slot;
}

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set) set.add(value);
  else map.set(key, new Set([value]));
}

function tagsKey(tags: readonly string[]): string {
  return [...new Set(tags)].sort(compareStrings).join('\u0000');
}

function platformIdentifier(p: PlatformRecord): string {
  return `${p.dockerfile}-${p.architecture}-${p.osType}-${p.osVersion}`;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
