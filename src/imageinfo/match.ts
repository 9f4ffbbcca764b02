/**
 * Which image-info record belongs to which manifest platform: the identity rule of docs/image-info.md.
 * Every reader (the planner, publish-manifest, merge-image-info, the label reader) and every writer
 * (a build's records, merged legs) decides with these functions.
 *
 * A record belongs to a platform when all of these agree:
 * - ImageBuilder's identifier, `{dockerfile}-{architecture}-{osType}-{osVersion}` (`recordMatchesPlatform`):
 *   - Dockerfile: the same path, or the record names the folder and the platform its `Dockerfile`
 *     (ImageBuilder records the path it resolved, which older versions left as the folder).
 *   - OS: `osType` compared case-insensitively (`Linux` vs `linux`).
 *   - OS version: the manifest's osVersion, which ImageBuilder has written since late 2020 and
 *     imagewright writes; or one of the display names ImageBuilder derived from it (`Debian 12` for
 *     `bookworm-slim`, `Azure Linux 3.0` for `azurelinux3.0`), which ImageBuilder wrote in 2020 and
 *     still uses in its reports. See `osDisplayNames`.
 *   - Architecture: ImageBuilder's display name (`arm32` for arm, otherwise the Go name); a `vN`
 *     suffix (`arm32v7`), when present, is read as the variant.
 *   - Variant: the record's `variant` (imagewright writes it) or the suffix above; a record from
 *     ImageBuilder has neither, so its variant is unknown and matches any. Default variants are
 *     equal to none, as containerd treats them: arm/v7, arm64/v8, amd64/v1.
 * - Tag state: both have simple tags or neither has (ImageBuilder's `HasDifferentTagState`).
 * - Product version: the record's image and the platform's image have equal product versions, or
 *   both are plain versions agreeing in major.minor (ImageBuilder's `AreProductVersionsEquivalent`).
 * - Tags, where ImageBuilder stops: the record shares at least one simple tag with the platform; two
 *   platforms without tags of their own share a shared tag of their images. Platforms that share a
 *   Dockerfile and differ only in build args or tags are told apart by this, and a record whose tags
 *   were all renamed belongs to no platform (the platform is new).
 * When several records belong to one platform, the one sharing the most tags wins, then one with a
 * build key (imagewright wrote it).
 */
import type { ManifestPlatform } from '../manifest/types.js';
import type { ImageInfo, ImageRecord, PlatformRecord } from './types.js';

/** What identifies a platform of the manifest (a ManifestPlatform fits); `tags` undefined: compare without the tag rule. */
export type PlatformKey = Pick<ManifestPlatform, 'dockerfile' | 'os' | 'osVersion' | 'architecture' | 'variant'> & {
  tags?: string[];
  /** The image's shared tags: tell tagless platforms of different images apart. */
  sharedTags?: string[];
  /** The image's product version. */
  productVersion?: string;
};

/** What of its image record a platform record's identity takes. */
export type ImageOfRecord = Pick<ImageRecord, 'productVersion' | 'manifest'>;

/** The record of `platform` in `repo`, or undefined when `info` has none. */
export function findPlatformRecord(info: ImageInfo | undefined, repo: string, platform: PlatformKey): PlatformRecord | undefined {
  if (!info) return undefined;
  let best: PlatformRecord | undefined;
  let bestScore = -1;
  // Only records in the platform's bucket can belong to it; in file order, so ties go to the first.
  for (const { record, image } of recordsByBucket(info).get(repo)?.get(identityBucket(platform.dockerfile, platform.os)) ?? []) {
    if (!recordBelongsTo(record, image, platform)) continue;
    const score = sharedTagCount(record, platform) * 2 + (record.buildKey !== undefined ? 1 : 0);
    if (score > bestScore) [best, bestScore] = [record, score];
  }
  return best;
}

/**
 * A coarse key that a record and every platform it matches share (the Dockerfile without any
 * trailing `/Dockerfile`, and the OS): lookups compare only the records of one bucket with the
 * identity rule, so finding N platforms' records costs about N, not N².
 */
export function identityBucket(dockerfile: string, os: string): string {
  let folder = cleanPath(dockerfile);
  while (folder.endsWith('/Dockerfile')) folder = folder.slice(0, -'/Dockerfile'.length);
  return `${os.toLowerCase()}\0${folder}`;
}

interface BucketEntry {
  record: PlatformRecord;
  image: ImageRecord;
}

/** Per image-info (treated as immutable): repo → bucket → records with their images, in file order. */
const bucketsOf = new WeakMap<ImageInfo, Map<string, Map<string, BucketEntry[]>>>();

function recordsByBucket(info: ImageInfo): Map<string, Map<string, BucketEntry[]>> {
  let byRepo = bucketsOf.get(info);
  if (byRepo) return byRepo;
  byRepo = new Map();
  for (const repoRecord of info.repos) {
    let buckets = byRepo.get(repoRecord.repo);
    if (!buckets) byRepo.set(repoRecord.repo, (buckets = new Map()));
    for (const image of repoRecord.images) {
      for (const record of image.platforms) {
        const bucket = identityBucket(record.dockerfile, record.osType);
        const list = buckets.get(bucket);
        if (list) list.push({ record, image });
        else buckets.set(bucket, [{ record, image }]);
      }
    }
  }
  bucketsOf.set(info, byRepo);
  return byRepo;
}

/** The identity rule (see the top of this file). */
export function recordBelongsTo(record: PlatformRecord, image: ImageOfRecord, platform: PlatformKey): boolean {
  return (
    recordMatchesPlatform(record, platform) &&
    sameTagState(record, platform) !== false &&
    equivalentProductVersions(image.productVersion, platform.productVersion) &&
    sameTags(record, image, platform)
  );
}

/** Two records of one image are records of the same platform (one replaces the other). */
export function sameRecordIdentity(a: PlatformRecord, b: PlatformRecord, image: ImageOfRecord): boolean {
  return recordBelongsTo(a, image, { ...recordAsPlatformKey(b), productVersion: image.productVersion });
}

/** Equal, or both plain versions agreeing in major.minor (ImageBuilder's rule, dotnet/docker-tools#688). */
export function equivalentProductVersions(a: string | undefined, b: string | undefined): boolean {
  if (a === b) return true;
  const plain = /^(\d+)\.(\d+)(\.\d+){0,2}$/;
  const ma = a === undefined ? null : plain.exec(a);
  const mb = b === undefined ? null : plain.exec(b);
  return !!ma && !!mb && Number(ma[1]) === Number(mb[1]) && Number(ma[2]) === Number(mb[2]);
}

function sameTags(record: PlatformRecord, image: ImageOfRecord, platform: PlatformKey): boolean {
  if (platform.tags === undefined) return true;
  if (platform.tags.length > 0) return sharedTagCount(record, platform) > 0;
  // Neither has tags of its own: the images' shared tags tell them apart, when both know theirs.
  const recorded = image.manifest?.sharedTags ?? [];
  const wanted = platform.sharedTags ?? [];
  return recorded.length === 0 || wanted.length === 0 || recorded.some((t) => wanted.includes(t));
}

function sharedTagCount(record: PlatformRecord, platform: PlatformKey): number {
  const tags = new Set(platform.tags ?? []);
  return record.simpleTags.filter((t) => tags.has(t)).length;
}

export function recordMatchesPlatform(record: PlatformRecord, platform: PlatformKey): boolean {
  return (
    sameDockerfile(record.dockerfile, platform.dockerfile) &&
    record.osType.toLowerCase() === platform.os.toLowerCase() &&
    sameOsVersion(record.osVersion, platform.os, platform.osVersion) &&
    sameArchitecture(record, platform)
  );
}

/** Both have their own tags, or neither has; undefined when the platform's tags are not known. */
export function sameTagState(record: PlatformRecord, platform: PlatformKey): boolean | undefined {
  if (platform.tags === undefined) return undefined;
  return record.simpleTags.length > 0 === platform.tags.length > 0;
}

/** The record's identity in manifest terms, to compare two records with the same rules. */
export function recordAsPlatformKey(record: PlatformRecord): PlatformKey {
  const { architecture, variant } = splitArchitecture(record);
  return {
    dockerfile: record.dockerfile,
    os: record.osType.toLowerCase(),
    osVersion: record.osVersion,
    architecture,
    variant: variant || undefined,
    tags: record.simpleTags,
  };
}

/** The identity fields of a record for `platform`, written the way ImageBuilder writes them, plus the variant. */
export function platformRecordIdentity(
  platform: PlatformKey & { tags: string[] },
): Pick<PlatformRecord, 'dockerfile' | 'simpleTags' | 'osType' | 'osVersion' | 'architecture' | 'variant'> {
  const identity: Pick<PlatformRecord, 'dockerfile' | 'simpleTags' | 'osType' | 'osVersion' | 'architecture' | 'variant'> = {
    dockerfile: platform.dockerfile,
    simpleTags: [...platform.tags].sort(),
    osType: platform.os.charAt(0).toUpperCase() + platform.os.slice(1).toLowerCase(),
    osVersion: platform.osVersion,
    architecture: platform.architecture.toLowerCase() === 'arm' ? 'arm32' : platform.architecture.toLowerCase(),
  };
  if (platform.variant) identity.variant = platform.variant;
  return identity;
}

export function sameDockerfile(recorded: string, dockerfile: string): boolean {
  const a = cleanPath(recorded);
  const b = cleanPath(dockerfile);
  return a === b || `${a}/Dockerfile` === b || a === `${b}/Dockerfile`;
}

function cleanPath(p: string): string {
  return p.replace(/\\/g, '/').replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}

function sameOsVersion(recorded: string, os: string, osVersion: string): boolean {
  const r = recorded.toLowerCase();
  return r === osVersion.toLowerCase() || osDisplayNames(os, osVersion).some((name) => name.toLowerCase() === r);
}

function sameArchitecture(record: PlatformRecord, platform: PlatformKey): boolean {
  const { architecture, variant } = splitArchitecture(record);
  const wanted = platform.architecture.toLowerCase();
  if (architecture !== wanted) return false;
  if (variant === undefined) return true;
  return defaultedVariant(wanted, variant) === defaultedVariant(wanted, platform.variant ?? '');
}

/** Architecture in manifest terms and the variant; variant undefined when the record cannot tell. */
function splitArchitecture(record: PlatformRecord): { architecture: string; variant: string | undefined } {
  const display = record.architecture.toLowerCase();
  // Only these take a variant; `riscv64` must not read as `risc` + `v64`.
  const suffix = /^(arm32|arm64|amd64|arm|386)(v\d+)$/.exec(display);
  const name = suffix?.[1] ?? display;
  const architecture = name === 'arm32' ? 'arm' : name;
  // A record imagewright wrote without a variant means "none"; one from ImageBuilder means "not recorded".
  const variant = record.variant ?? suffix?.[2] ?? (record.buildKey !== undefined ? '' : undefined);
  return { architecture, variant: variant?.toLowerCase() };
}

function defaultedVariant(architecture: string, variant: string): string {
  const v = variant.toLowerCase();
  if (v !== '') return v;
  return architecture === 'arm' ? 'v7' : architecture === 'arm64' ? 'v8' : architecture === 'amd64' ? 'v1' : '';
}

const codenames: Record<string, string> = {
  jessie: 'Debian 8',
  stretch: 'Debian 9',
  buster: 'Debian 10',
  bullseye: 'Debian 11',
  bookworm: 'Debian 12',
  trixie: 'Debian 13',
  forky: 'Debian 14',
  duke: 'Debian 15',
  xenial: 'Ubuntu 16.04',
  bionic: 'Ubuntu 18.04',
  disco: 'Ubuntu 19.04',
  focal: 'Ubuntu 20.04',
  jammy: 'Ubuntu 22.04',
  noble: 'Ubuntu 24.04',
  resolute: 'Ubuntu 26.04',
};

/**
 * The display names ImageBuilder gives a manifest osVersion: its current naming (used in reports
 * and tag listings) and the 2020 naming (which it wrote into image-info files then). The `-slim`
 * suffix is dropped first, as ImageBuilder does. Empty when ImageBuilder would not know the OS.
 */
export function osDisplayNames(os: string, osVersion: string): string[] {
  const base = osVersion.replace(/-slim$/, '');
  const names = os.toLowerCase() === 'windows' ? windowsDisplayNames(base) : linuxDisplayNames(base);
  return [...new Set(names)];
}

function linuxDisplayNames(base: string): string[] {
  if (base.includes('debian')) return ['Debian'];
  const codename = Object.keys(codenames).find((name) => base.includes(name));
  if (codename) return [codenames[codename] as string];
  const named: [string, string][] = [
    ['azurelinux', 'Azure Linux'],
    ['cbl-mariner', 'CBL-Mariner'],
    ['leap', 'openSUSE Leap'],
    ['ubuntu', 'Ubuntu'],
  ];
  const known = named.find(([marker]) => base.includes(marker));
  if (known) return [withVersion(known[1], base)];
  if (/alpine|centos|fedora/.test(base)) {
    const { name } = splitVersion(base);
    const current = withVersion(name.charAt(0).toUpperCase() + name.slice(1), base);
    // 2020 naming: a space before the first digit, the rest kept as it was.
    const digit = base.search(/\d/);
    const spaced = digit === -1 ? base : `${base.slice(0, digit)} ${base.slice(digit)}`;
    return [current, spaced.charAt(0).toUpperCase() + spaced.slice(1)];
  }
  return [];
}

function windowsDisplayNames(base: string): string[] {
  const version = base.split('-')[1] ?? '';
  const names: string[] = [];
  const product = base.startsWith('nanoserver') ? 'Nano Server' : base.startsWith('windowsservercore') ? 'Windows Server Core' : undefined;
  if (product) names.push(version.startsWith('ltsc') ? `${product} ${version.slice(4)}` : `${product}, version ${version}`);
  // 2020 naming, which did not tell Nano Server from Server Core.
  if (base.includes('2016')) names.push('Windows Server 2016');
  else if (base.includes('2019') || base.includes('1809')) names.push('Windows Server 2019');
  else if (version) names.push(`Windows Server, version ${version}`);
  return names;
}

/** `Name 1.2` from `name1.2-suffix`: a name ending in a non-digit, then up to three version parts. */
function withVersion(displayName: string, base: string): string {
  const { version } = splitVersion(base);
  return version ? `${displayName} ${version}` : displayName;
}

function splitVersion(base: string): { name: string; version: string } {
  const match = /(.+[^0-9.])(\d+(\.\d*){0,2})/.exec(base);
  return match ? { name: match[1] as string, version: match[2] as string } : { name: base, version: '' };
}

/** Whether two lists name the same tags, in any order (an index's shared tags, as recorded and as wanted). */
export function sameTagSet(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return set.size === new Set(b).size && b.every((t) => set.has(t));
}
