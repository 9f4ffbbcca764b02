/**
 * Where image-info's names point. The file names repos and images as ImageBuilder does, whatever
 * `--registry-override` and `--repo-prefix` a run stages under:
 * - `repo` is the manifest repo's name: no registry, no prefix (ImageBuilder skips a record whose repo
 *   is not a manifest repo name). imagewright once wrote the prefix into it; such names are read back
 *   without it.
 * - platform and shared-tag digests are `<manifest registry>/<repo name>@sha256:…` (ImageBuilder's
 *   `FullModelName`; `<repo name>@…` when the manifest has no registry), as BuildCommand and
 *   CreateManifestListCommand write them. A run reaches such an image at its own location, with the
 *   override and prefix applied again (ImageBuilder's `RegistryOptions.ApplyOverrideToDigest`).
 *   imagewright once wrote the staged location itself (`<override>/<prefix><repo>@…`); a digest that
 *   names any other location than the public one is a place the image was pushed to, and is read as it is.
 *
 * Records travel through a run at its own location (`forRun`), and are written back in the file's
 * form (`forFile`). Without an override or a prefix both forms are the same.
 */
import { closestMatch } from 'leven';
import { publicRepo, qualifiedRepo, type Manifest } from '../manifest/types.js';
import { digestOfReference } from '../digest.js';
import { parseReference, pinnedReference, repositoryOf } from '../reference.js';
import type { ImageInfo, ImageRecord, ManifestRecord, PlatformRecord, RepoRecord } from './types.js';

type Locatable = Pick<Manifest, 'location' | 'registry' | 'repos'>;

/** One direction of the translation: normalized repository → the repository written instead. */
type Translation = ReadonlyMap<string, string>;

/** `info` as a run reads it: repo names as the manifest writes them, each recorded image at the location the run reaches it. */
export function imageInfoForRun(info: ImageInfo, manifest: Locatable): ImageInfo {
  return translateDigests(withManifestRepoNames(info, manifest), toRunLocation(manifest), false);
}

/** `info` as the file holds it: repo names as the manifest writes them, images at this run's location in ImageBuilder's form. */
export function imageInfoForFile(info: ImageInfo, manifest: Locatable): ImageInfo {
  return translateDigests(withManifestRepoNames(info, manifest), toFileForm(manifest), true);
}

/** A platform record as the file holds it (its digest and base image in ImageBuilder's form). */
export function platformRecordForFile(record: PlatformRecord, manifest: Locatable): PlatformRecord {
  return translatePlatform(record, toFileForm(manifest), true);
}

/** An index record as the file holds it. */
export function manifestRecordForFile(record: ManifestRecord, manifest: Locatable): ManifestRecord {
  return translateManifest(record, toFileForm(manifest));
}

/** An index record (as the file holds it) at the location this run reaches it. */
export function manifestRecordForRun(record: ManifestRecord, manifest: Locatable): ManifestRecord {
  return translateManifest(record, toRunLocation(manifest));
}

/** A digest of the file (`<manifest registry>/<repo>@sha256:…`, or any other location) where this run reaches it. */
export function recordedDigestForRun(digest: string, manifest: Locatable): string {
  return translate(digest, toRunLocation(manifest));
}

/** `info` with repo names as the manifest writes them; a name carrying this run's repo prefix loses it when that names a manifest repo. */
function withManifestRepoNames(info: ImageInfo, manifest: Locatable): ImageInfo {
  const prefix = manifest.location.repoPrefix;
  if (!prefix) return info;
  const names = new Set(manifest.repos.map((r) => r.name));
  const recorded = new Set(info.repos.map((r) => r.repo));
  let changed = false;
  const repos = info.repos.map((record) => {
    if (names.has(record.repo) || !record.repo.startsWith(prefix)) return record;
    const name = record.repo.slice(prefix.length);
    // A record under the plain name is newer than one under the prefixed name.
    if (!names.has(name) || recorded.has(name)) return record;
    changed = true;
    return { ...record, repo: name };
  });
  return changed ? { ...info, repos } : info;
}

/**
 * Per manifest repo: its public repository → where this run reaches it, normalized as the run names
 * the images it pushes (`docker.io/library/…` when there is no registry). Empty when they are the same.
 */
function toRunLocation(manifest: Locatable): Translation {
  return translationsOf(manifest).run;
}

function runTranslation(manifest: Locatable): Translation {
  return translation(manifest, (name) => {
    const at = qualifiedRepo(manifest, name);
    return [publicRepo(manifest, name), normalizedRepository(at) ?? at];
  });
}

/** Per manifest repo: where this run pushes it → its public repository, as ImageBuilder writes it. */
function toFileForm(manifest: Locatable): Translation {
  return translationsOf(manifest).file;
}

function fileTranslation(manifest: Locatable): Translation {
  return translation(manifest, (name) => [qualifiedRepo(manifest, name), publicRepo(manifest, name)]);
}

/** Per manifest (treated as immutable): both translations, computed once (a build translates every record it writes). */
const translations = new WeakMap<Locatable, { run: Translation; file: Translation }>();

function translationsOf(manifest: Locatable): { run: Translation; file: Translation } {
  let found = translations.get(manifest);
  if (!found) {
    found = { run: runTranslation(manifest), file: fileTranslation(manifest) };
    translations.set(manifest, found);
  }
  return found;
}

function translation(manifest: Locatable, pair: (name: string) => [from: string, to: string]): Translation {
  const map = new Map<string, string>();
  for (const { name } of manifest.repos) {
    const [from, to] = pair(name);
    const key = normalizedRepository(from);
    if (key !== undefined && key !== normalizedRepository(to)) map.set(key, to);
  }
  return map;
}

/** `registry/repository` as Docker normalizes it (`prereqs` → `docker.io/library/prereqs`), so both spellings compare equal. */
function normalizedRepository(name: string): string | undefined {
  const parsed = parseReference(name);
  return parsed && repositoryOf(parsed);
}

function translate(digestRef: string, map: Translation): string {
  if (map.size === 0 || !digestRef.includes('@')) return digestRef;
  const to = map.get(normalizedRepository(digestRef.slice(0, digestRef.lastIndexOf('@'))) ?? '');
  return to === undefined ? digestRef : pinnedReference(to, digestOfReference(digestRef));
}

function translateDigests(info: ImageInfo, map: Translation, withBase: boolean): ImageInfo {
  if (map.size === 0) return info;
  let changed = false;
  const repos = info.repos.map((repo): RepoRecord => {
    const images = repo.images.map((image): ImageRecord => {
      const platforms = image.platforms.map((p) => translatePlatform(p, map, withBase));
      const manifest = image.manifest && translateManifest(image.manifest, map);
      if (manifest === image.manifest && platforms.every((p, i) => p === image.platforms[i])) return image;
      changed = true;
      return { ...image, platforms, ...(manifest ? { manifest } : {}) };
    });
    return images.every((image, i) => image === repo.images[i]) ? repo : { ...repo, images };
  });
  return changed ? { ...info, repos } : info;
}

function translatePlatform(record: PlatformRecord, map: Translation, withBase: boolean): PlatformRecord {
  const digest = translate(record.digest, map);
  // The base image is a record of what was read, never reached through the file: only written in ImageBuilder's form.
  const base = withBase && record.baseImageDigest !== undefined ? translate(record.baseImageDigest, map) : record.baseImageDigest;
  if (digest === record.digest && base === record.baseImageDigest) return record;
  return { ...record, digest, ...(base !== undefined ? { baseImageDigest: base } : {}) };
}

function translateManifest(record: ManifestRecord, map: Translation): ManifestRecord {
  const digest = translate(record.digest, map);
  return digest === record.digest ? record : { ...record, digest };
}

/**
 * When a previous image-info has records but none of them belongs to a platform of the manifest,
 * the one warning that says so, naming for each manifest repo the closest repo name the file has
 * (a `--repo-prefix` written into the names, another manifest); undefined when some record matched
 * or the file has none.
 */
export function unmatchedImageInfoWarning(file: string, info: ImageInfo, manifest: Pick<Manifest, 'repos'>, matched: number): string | undefined {
  const records = info.repos.reduce((n, r) => n + r.images.reduce((m, i) => m + i.platforms.length, 0), 0);
  if (matched > 0 || records === 0) return undefined;
  const recorded = [...new Set(info.repos.map((r) => r.repo))];
  const names = [...new Set(manifest.repos.map((r) => r.name))];
  const closest = names
    .map((name) => ({ name, found: closestMatch(name, recorded) }))
    .filter((pair): pair is { name: string; found: string } => pair.found !== undefined);
  const same = closest.filter((pair) => pair.found === pair.name);
  const why =
    same.length > 0
      ? `its repo ${quoteList(same.map((p) => p.name))} is the manifest's, but no record's Dockerfile, OS, OS version, architecture and tags are a platform's`
      : `the closest repo names it has are ${closest.map((p) => `"${p.found}" (the manifest's "${p.name}")`).join(', ')}; ` +
        'image-info names repos as the manifest does, without --repo-prefix';
  return `${file}: none of its ${records} platform record${records === 1 ? '' : 's'} belongs to a platform of the manifest, so every platform is new: ${why}`;
}

function quoteList(names: string[]): string {
  return names.map((n) => `"${n}"`).join(', ');
}
