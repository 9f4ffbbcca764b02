/**
 * The image-info file during a build run. Records are updated in memory (an ImageInfoDocument,
 * indexed by platform identity) and the file is rewritten atomically, so that a kill at any moment
 * leaves the old content or the new, never a part:
 * - a built platform's record is on disk before the platform counts as done;
 * - a reused or re-tagged platform, and a published index, changes nothing a rerun needs (the
 *   previous record still names an image that exists; a lost tag or index is published again), so
 *   their records are written in batches: with the next write, at most every FLUSH_INTERVAL_MS, and
 *   by flush() at the end. A no-change run writes the file once, or not at all when nothing changed.
 */
import { ImageInfoDocument, imageInfoForFile, manifestRecordForFile, manifestRecordForRun, platformRecordForFile, readImageInfo, writeImageInfoText } from '../imageinfo/index.js';
import type { ImageInfo, ManifestRecord } from '../imageinfo/types.js';
import type { Manifest, ManifestImage } from '../manifest/types.js';
import type { PlatformPlan } from '../plan/types.js';
import { platformRecord } from './record.js';
import type { PlatformOutcome } from './types.js';

/** Longest time a batched record waits for a write while the run goes on. */
const FLUSH_INTERVAL_MS = 5_000;

export interface StoreOptions {
  /** For tests: the clock that times batched writes. */
  now?: () => number;
  /** `previous` is exactly what the file holds (just read from it): an unchanged record then costs no write, as after a read. */
  previousAsInFile?: boolean;
}

export class ImageInfoStore {
  readonly #document: ImageInfoDocument;
  /** Whether the document is what the file holds (read from it, or written since): then an unchanged record costs no write. */
  #inSync: boolean;
  /** Changes not written yet (batched records). */
  #pending = false;
  #writes: Promise<unknown> = Promise.resolve();
  #lastWrite: number;
  #writtenChars = 0;
  readonly #now: () => number;

  private constructor(
    readonly file: string,
    private readonly manifest: Manifest,
    info: ImageInfo,
    existed: boolean,
    options: StoreOptions,
  ) {
    this.#document = new ImageInfoDocument(info);
    this.#inSync = existed;
    this.#now = options.now ?? Date.now;
    this.#lastWrite = this.#now();
  }

  /**
   * Start from the file's content (or an empty image-info when there is no file), or from `previous`;
   * only a start from the file itself (read here, or `previousAsInFile`) lets an unchanged record skip its write.
   */
  static async open(file: string, manifest: Manifest, previous?: ImageInfo, options: StoreOptions = {}): Promise<ImageInfoStore> {
    if (previous) {
      const info = imageInfoForFile(previous, manifest);
      return new ImageInfoStore(file, manifest, info, options.previousAsInFile === true && info === previous, options);
    }
    const read = await readImageInfo(file);
    const info = read && imageInfoForFile(read, manifest);
    // A file whose repo names or digests were rewritten on read is not what the next write would leave alone.
    return new ImageInfoStore(file, manifest, info ?? { schemaVersion: '2.0', repos: [] }, read !== undefined && info === read, options);
  }

  /** The records as they stand, as the file holds them (a copy of the lists; records are shared). */
  get info(): ImageInfo {
    return this.#document.toInfo();
  }

  /** Characters of JSON serialized (image texts and whole files) and written so far: what the store's writes cost. */
  get serializedChars(): number {
    return this.#document.serializedChars;
  }

  get writtenChars(): number {
    return this.#writtenChars;
  }

  /**
   * Record a finished platform (an `onPlatformDone` for executePlan). A built platform is written
   * at once; a reused or re-tagged one is batched (see the module comment).
   */
  recordPlatform(plan: PlatformPlan, outcome: PlatformOutcome, commitUrl = ''): Promise<void> {
    const image = this.#image(plan.platform.repo, plan.platform.imageIndex);
    // The manifest's image names all its platforms: a record none of them claims (tags renamed) is replaced.
    const record = platformRecordForFile(platformRecord(plan, outcome, commitUrl), this.manifest);
    return this.#update(() => this.#document.upsertPlatform(plan.platform.repo, { ...image, complete: true }, record), outcome.action !== 'built');
  }

  /** Write what batched records left unwritten. Call at the end of a run. */
  flush(): Promise<void> {
    return this.#update(() => false, false);
  }

  /** Record a published index (an `onIndexPublished` for executePlan); batched, as publishing it again is harmless. */
  recordIndex(which: { repo: string; imageIndex: number }, record: ManifestRecord): Promise<void> {
    const image = this.#image(which.repo, which.imageIndex);
    return this.#update(() => this.#document.setManifest(which.repo, image, manifestRecordForFile(record, this.manifest)), true);
  }

  /** The index the file records for an image, at the location this run reaches it (a `previousIndex` for executePlan). */
  indexRecord(which: { repo: string; imageIndex: number }): ManifestRecord | undefined {
    const image = this.#image(which.repo, which.imageIndex);
    const record = this.#document.imageWithSharedTags(which.repo, image.sharedTags)?.manifest;
    return record && manifestRecordForRun(record, this.manifest);
  }

  #image(repo: string, imageIndex: number): ManifestImage {
    const image = this.manifest.repos.find((r) => r.name === repo)?.images[imageIndex];
    if (!image) throw new Error(`image-info: the manifest has no image ${imageIndex} in ${repo}`);
    return image;
  }

  /** Apply a change (which says whether the file's text changed) and write the file, unless the change may wait. */
  #update(change: () => boolean, batched: boolean): Promise<void> {
    const write = this.#writes.then(async () => {
      if (change()) this.#pending = true;
      if (this.#inSync && !this.#pending) return;
      if (batched && this.#now() - this.#lastWrite < FLUSH_INTERVAL_MS) return;
      const text = this.#document.serialize();
      await writeImageInfoText(this.file, text);
      this.#writtenChars += text.length;
      this.#lastWrite = this.#now();
      this.#inSync = true;
      this.#pending = false;
    });
    this.#writes = write.catch(() => undefined);
    return write;
  }
}
