/**
 * The image-info file during a build run: every finished platform (and published index) is written
 * at once, atomically, so an interrupted or failing run keeps everything it built.
 */
import { readImageInfo, setImageManifest, upsertPlatformRecord, withManifestRepoNames, writeImageInfo } from '../imageinfo/index.js';
import { canonicalJson } from '../digest.js';
import type { ImageInfo, ManifestRecord } from '../imageinfo/types.js';
import type { Manifest, ManifestImage } from '../manifest/types.js';
import type { PlatformPlan } from '../plan/types.js';
import { platformRecord } from './record.js';
import type { PlatformOutcome } from './types.js';

export class ImageInfoStore {
  #info: ImageInfo;
  /** Whether #info is what the file holds (read from it, or written since): then an unchanged record costs no write. */
  #inSync: boolean;
  /** Changes not written yet (deferred records of reused platforms). */
  #pending = false;
  #writes: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly file: string,
    private readonly manifest: Manifest,
    info: ImageInfo,
    existed: boolean,
  ) {
    this.#info = info;
    this.#inSync = existed;
  }

  /**
   * Start from the file's content (or an empty image-info when there is no file), or from `previous`;
   * only a start from the file itself lets an unchanged record skip its write.
   */
  static async open(file: string, manifest: Manifest, previous?: ImageInfo): Promise<ImageInfoStore> {
    if (previous) return new ImageInfoStore(file, manifest, withManifestRepoNames(previous, manifest), false);
    const read = await readImageInfo(file);
    const info = read && withManifestRepoNames(read, manifest);
    // A file whose repo names were rewritten on read is not what the next write would leave alone.
    return new ImageInfoStore(file, manifest, info ?? { schemaVersion: '2.0', repos: [] }, read !== undefined && info === read);
  }

  get info(): ImageInfo {
    return this.#info;
  }

  /**
   * Record a finished platform (an `onPlatformDone` for executePlan). A built or retagged platform is
   * written at once. A plainly reused one changes nothing a rerun needs (it would be reused again),
   * so its record waits for the next write or for flush(): a no-change run writes the file once.
   */
  recordPlatform(plan: PlatformPlan, outcome: PlatformOutcome, commitUrl = ''): Promise<void> {
    const image = this.#image(plan.platform.repo, plan.platform.imageIndex);
    // The manifest's image names all its platforms: a record none of them claims (tags renamed) is replaced.
    const change = (info: ImageInfo): ImageInfo => upsertPlatformRecord(info, plan.platform.repo, { ...image, complete: true }, platformRecord(plan, outcome, commitUrl));
    return this.#update(plan.platform.repo, change, outcome.action === 'reused');
  }

  /** Write what reused platforms left unwritten. Call at the end of a run. */
  flush(): Promise<void> {
    return this.#update(undefined, (info) => info, false);
  }

  /** Record a published index and write the file (an `onIndexPublished` for executePlan). */
  recordIndex(which: { repo: string; imageIndex: number }, record: ManifestRecord): Promise<void> {
    const image = this.#image(which.repo, which.imageIndex);
    return this.#update(which.repo, (info) => setImageManifest(info, which.repo, image, record), false);
  }

  /** The index the file records for an image (a `previousIndex` for executePlan). */
  indexRecord(which: { repo: string; imageIndex: number }): ManifestRecord | undefined {
    const image = this.#image(which.repo, which.imageIndex);
    const sharedTags = new Set(image.sharedTags);
    const records = this.#info.repos.find((r) => r.repo === which.repo)?.images ?? [];
    const match = records.find((r) => {
      const tags = r.manifest?.sharedTags ?? [];
      return tags.length === sharedTags.size && tags.every((t) => sharedTags.has(t));
    });
    return match?.manifest;
  }

  #image(repo: string, imageIndex: number): ManifestImage {
    const image = this.manifest.repos.find((r) => r.name === repo)?.images[imageIndex];
    if (!image) throw new Error(`image-info: the manifest has no image ${imageIndex} in ${repo}`);
    return image;
  }

  /** Apply a change to one repo's records and write the file, unless the change left that repo as it was. */
  #update(repo: string | undefined, change: (info: ImageInfo) => ImageInfo, defer: boolean): Promise<void> {
    const write = this.#writes.then(async () => {
      const next = change(this.#info);
      const changed = repo !== undefined && repoText(next, repo) !== repoText(this.#info, repo);
      this.#info = next;
      if (changed) this.#pending = true;
      if (defer || (this.#inSync && !this.#pending)) return;
      await writeImageInfo(this.file, next);
      this.#inSync = true;
      this.#pending = false;
    });
    this.#writes = write.catch(() => undefined);
    return write;
  }
}

/** Canonical JSON of each record, computed once: updates copy shallowly, so untouched records keep their identity. */
const canonicalText = new WeakMap<object, string>();

function textOf(value: object): string {
  let text = canonicalText.get(value);
  if (text === undefined) {
    text = canonicalJson(value);
    canonicalText.set(value, text);
  }
  return text;
}

/** One repo's records as comparable text; comparing one repo, not the file, keeps a run linear in its platforms. */
function repoText(info: ImageInfo, repo: string): string {
  const record = info.repos.find((r) => r.repo === repo);
  if (!record) return '';
  return record.images
    .map(({ platforms, manifest, ...rest }) => [canonicalJson(rest), manifest ? textOf(manifest) : '', ...platforms.map(textOf)].join('\n'))
    .join('\n\n');
}
