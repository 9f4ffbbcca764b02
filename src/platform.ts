/**
 * Platforms as BuildKit and the OCI image spec define them, in one place: containerd's normalization
 * (aarch64 is arm64, arm64's default variant v8 is no variant, arm's is v7, amd64/v1 is amd64), the
 * Windows `os.version` of an index entry, the text forms (`linux/arm/v7`, `windows(10.0.20348)/amd64`),
 * and the build-time variables BuildKit sets from a target and a build platform. Pure; no I/O.
 */

/** A target platform; `variant` only where the architecture has one (`arm/v7`). */
export interface TargetPlatform {
  os: string;
  architecture: string;
  variant?: string;
  /**
   * The OCI `os.version` to pick from an index, e.g. `10.0.20348` for a Windows Server 2022 target
   * (a revision such as `10.0.20348.2655` matches). Not the manifest's osVersion (`windowsservercore-ltsc2022`).
   */
  ociOsVersion?: string;
}

/** What a build gets when nothing says otherwise: BuildKit's default on an amd64 Linux host. */
export const DEFAULT_PLATFORM: Readonly<TargetPlatform> = { os: 'linux', architecture: 'amd64' };

/** One `manifests[]` entry of an OCI index or Docker manifest list. */
export interface IndexEntry {
  mediaType: string;
  digest: string;
  size?: number;
  platform?: { os?: string; architecture?: string; variant?: string; 'os.version'?: string };
  annotations?: Record<string, string>;
}

/** A platform in containerd's canonical form; `variant` is '' when the platform has none (or only the default). */
export interface NormalizedPlatform {
  os: string;
  architecture: string;
  variant: string;
  ociOsVersion?: string;
}

const ARM64_DEFAULT_VARIANTS = new Set(['', '8', 'v8', 'v8.0']);

/**
 * containerd's `platforms.Normalize`, which is what BuildKit applies to `--platform` and to index
 * entries: `linux/arm64/v8` is `linux/arm64` (TARGETVARIANT is empty), `linux/arm` is `linux/arm/v7`.
 */
export function normalizePlatform(platform: TargetPlatform): NormalizedPlatform {
  let os = platform.os.trim().toLowerCase();
  if (os === 'macos') os = 'darwin';
  let architecture = platform.architecture.trim().toLowerCase();
  let variant = (platform.variant ?? '').trim().toLowerCase();
  switch (architecture) {
    case 'i386':
    case 'x86':
      architecture = '386';
      variant = '';
      break;
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      architecture = 'amd64';
      if (variant === 'v1') variant = '';
      break;
    case 'aarch64':
    case 'arm64':
      architecture = 'arm64';
      if (ARM64_DEFAULT_VARIANTS.has(variant)) variant = '';
      else if (/^\d/.test(variant)) variant = `v${variant}`;
      break;
    case 'armhf':
      architecture = 'arm';
      variant = 'v7';
      break;
    case 'armel':
      architecture = 'arm';
      variant = 'v6';
      break;
    case 'arm':
      if (variant === '') variant = 'v7';
      else if (/^\d/.test(variant)) variant = `v${variant}`;
      break;
  }
  const normalized: NormalizedPlatform = { os, architecture, variant };
  const osVersion = platform.ociOsVersion?.trim();
  if (osVersion) normalized.ociOsVersion = osVersion;
  return normalized;
}

/** The canonical platform: normalized, with `variant` left out when there is none. */
export function canonicalPlatform(platform: TargetPlatform): TargetPlatform {
  const { os, architecture, variant, ociOsVersion } = normalizePlatform(platform);
  const canonical: TargetPlatform = { os, architecture };
  if (variant) canonical.variant = variant;
  if (ociOsVersion) canonical.ociOsVersion = ociOsVersion;
  return canonical;
}

/** Whether two platforms are one after normalization (the OS version included). */
export function samePlatform(a: TargetPlatform, b: TargetPlatform): boolean {
  return formatPlatform(canonicalPlatform(a)) === formatPlatform(canonicalPlatform(b));
}

/**
 * `os/architecture[/variant]`, as Docker prints platforms; with an OCI os.version, containerd's
 * `FormatAll` form `windows(10.0.20348)/amd64`.
 */
export function formatPlatform(platform: TargetPlatform): string {
  const os = platform.ociOsVersion ? `${platform.os}(${platform.ociOsVersion})` : platform.os;
  return [os, platform.architecture, platform.variant].filter((part) => part).join('/');
}

/** `os/architecture[/variant]` without the OS version: what `docker build --platform` takes. */
export function formatPlatformForBuild(platform: TargetPlatform): string {
  const { os, architecture, variant } = canonicalPlatform(platform);
  return formatPlatform({ os, architecture, ...(variant ? { variant } : {}) });
}

/** Parse `linux/arm64/v8` or `windows(10.0.20348)/amd64`; undefined when it does not have two or three parts. */
export function parsePlatform(text: string): TargetPlatform | undefined {
  const parts = text.split('/');
  const [osPart, architecture, variant] = parts;
  if (parts.length < 2 || parts.length > 3 || !osPart || !architecture) return undefined;
  const versioned = /^([^()]+)\(([^()]*)\)$/.exec(osPart);
  if (!versioned && /[()]/.test(osPart)) return undefined;
  const os = versioned?.[1] ?? osPart;
  const platform: TargetPlatform = variant ? { os, architecture, variant } : { os, architecture };
  if (versioned?.[2]) platform.ociOsVersion = versioned[2];
  return platform;
}

// ---- Windows versions -----------------------------------------------------------------------

/**
 * Windows Server releases by the names manifests give them (ImageBuilder's osVersion, e.g.
 * `windowsservercore-ltsc2022`, `nanoserver-1809`), and the `os.version` build their images carry.
 */
const WINDOWS_BUILDS: ReadonlyArray<[names: string[], build: string]> = [
  [['ltsc2016', '1607'], '10.0.14393'],
  [['ltsc2019', '1809'], '10.0.17763'],
  [['1903'], '10.0.18362'],
  [['1909'], '10.0.18363'],
  [['2004'], '10.0.19041'],
  [['20h2'], '10.0.19042'],
  [['ltsc2022'], '10.0.20348'],
  [['ltsc2025'], '10.0.26100'],
];

/**
 * The `os.version` build (`10.0.20348`) a manifest's Windows osVersion names: a release name
 * (`ltsc2022`, `1809`), optionally after the image family (`nanoserver-`, `windowsservercore-`,
 * `windows-`), or the version itself (`10.0.20348`, `10.0.20348.2655`). undefined when it names none.
 */
export function windowsOsVersion(osVersion: string): string | undefined {
  const text = osVersion.trim().toLowerCase();
  const numeric = /^(\d+\.\d+\.\d+)(\.\d+)?$/.exec(text);
  if (numeric) return text;
  const release = text.replace(/^(?:nanoserver|windowsservercore|windowsserver|windows|server)-/, '');
  return WINDOWS_BUILDS.find(([names]) => names.includes(release))?.[1];
}

/** Whether an entry's os.version (`10.0.20348.2655`) is the wanted build (`10.0.20348`) or a revision of it. */
function osVersionMatches(offered: string, wanted: string): boolean {
  return offered === wanted || offered.startsWith(`${wanted}.`);
}

/**
 * The platform a manifest platform builds for: canonical, and for Windows with the os.version build
 * its osVersion names, so that base indexes are picked for that Windows release.
 */
export function manifestTargetPlatform(platform: { os: string; architecture: string; variant?: string; osVersion: string }): TargetPlatform {
  const target = canonicalPlatform({ os: platform.os, architecture: platform.architecture, variant: platform.variant });
  const build = target.os === 'windows' ? windowsOsVersion(platform.osVersion) : undefined;
  if (build) target.ociOsVersion = build;
  return target;
}

// ---- index entries --------------------------------------------------------------------------

/** Whether an index entry is a BuildKit attestation (provenance/SBOM), never a runnable image. */
export function isAttestationEntry(entry: IndexEntry): boolean {
  if (entry.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest') return true;
  return entry.platform?.os === 'unknown' && entry.platform.architecture === 'unknown';
}

/** The platform an index entry declares, with its os.version; undefined without os and architecture. */
export function entryPlatform(entry: IndexEntry): TargetPlatform | undefined {
  const { os, architecture, variant } = entry.platform ?? {};
  if (!os || !architecture) return undefined;
  const platform: TargetPlatform = variant ? { os, architecture, variant } : { os, architecture };
  const osVersion = entry.platform?.['os.version'];
  if (osVersion) platform.ociOsVersion = osVersion;
  return platform;
}

/** The image entries of an index (attestations and platform-less entries left out). */
export function imageEntries(entries: readonly IndexEntry[]): IndexEntry[] {
  return entries.filter((entry) => !isAttestationEntry(entry) && entryPlatform(entry) !== undefined);
}

export interface IndexMatch {
  entry?: IndexEntry;
  /** When no entry was picked: why, one phrase (`the index offers linux/amd64, linux/arm/v7`). */
  problem?: string;
}

/**
 * The index entry BuildKit would pull for `target`:
 * - OS, architecture and variant must be equal after normalization (arm64 is arm64/v8);
 * - a target with an OS version (a Windows release) takes the entry of that build
 *   (`10.0.20348.2655` is 10.0.20348); an entry without os.version stands in only when no entry of
 *   that platform names a version at all, never for a version the index lacks;
 * - a target without an OS version takes the one matching entry; several that differ in os.version
 *   are ambiguous (the manifest must say which Windows release it builds for).
 */
export function matchIndexEntry(entries: readonly IndexEntry[], target: TargetPlatform): IndexMatch {
  const wanted = normalizePlatform(target);
  const images = imageEntries(entries);
  const candidates = images.filter((entry) => {
    const offered = normalizePlatform(entryPlatform(entry) as TargetPlatform);
    return offered.os === wanted.os && offered.architecture === wanted.architecture && offered.variant === wanted.variant;
  });
  const offered = `the index offers ${describeEntries(images) || 'no platforms'}`;
  if (candidates.length === 0) return { problem: offered };
  const versioned = candidates.filter((entry) => entry.platform?.['os.version']);
  if (wanted.ociOsVersion) {
    const wantedVersion = wanted.ociOsVersion;
    if (versioned.length === 0) return { entry: candidates[0] };
    const entry = versioned.find((e) => osVersionMatches(e.platform?.['os.version'] ?? '', wantedVersion));
    return entry ? { entry } : { problem: `no entry has os.version ${wantedVersion}; ${offered}` };
  }
  const versions = new Set(candidates.map((e) => e.platform?.['os.version'] ?? ''));
  if (versions.size > 1) {
    return { problem: `its entries differ by os.version (${describeEntries(candidates)}) and the platform names no Windows release to pick one by (set its osVersion)` };
  }
  return { entry: candidates[0] };
}

/** The entry `matchIndexEntry` picks, or undefined. */
export function pickPlatformEntry(entries: readonly IndexEntry[], target: TargetPlatform): IndexEntry | undefined {
  return matchIndexEntry(entries, target).entry;
}

/** The platforms an index offers, formatted (with os.version), for error messages. */
export function offeredPlatforms(entries: readonly IndexEntry[]): string[] {
  return imageEntries(entries).map((entry) => formatPlatform(entryPlatform(entry) as TargetPlatform));
}

function describeEntries(entries: readonly IndexEntry[]): string {
  return entries.map((entry) => formatPlatform(entryPlatform(entry) ?? { os: '?', architecture: '?' })).join(', ');
}

// ---- build-time variables -------------------------------------------------------------------

/**
 * The platform variables BuildKit's Dockerfile frontend defines for a build (moby/buildkit
 * dockerfile2llb): the target's and the build host's, both normalized the containerd way, so
 * TARGETVARIANT is '' for arm64 (and arm64/v8) and `v7` for arm.
 */
export function buildTimeVariables(target: TargetPlatform, build: TargetPlatform): Record<string, string> {
  const t = canonicalPlatform(target);
  const b = canonicalPlatform(build);
  return {
    BUILDPLATFORM: formatPlatformForBuild(b),
    BUILDOS: b.os,
    BUILDARCH: b.architecture,
    BUILDVARIANT: b.variant ?? '',
    TARGETPLATFORM: formatPlatformForBuild(t),
    TARGETOS: t.os,
    TARGETARCH: t.architecture,
    TARGETVARIANT: t.variant ?? '',
  };
}

/** The build-time variables that describe the build host (BUILDPLATFORM, BUILDOS, BUILDARCH, BUILDVARIANT). */
export const BUILD_PLATFORM_VARIABLES: ReadonlySet<string> = new Set(['BUILDPLATFORM', 'BUILDOS', 'BUILDARCH', 'BUILDVARIANT', 'BUILDOSVERSION']);

// ---- what an engine runs ----------------------------------------------------------------------

/**
 * Architectures a CPU of one architecture executes without emulation: its own, and the 32-bit
 * modes amd64 and arm64 machines commonly keep (BuildKit's archutil makes the same assumption
 * before it looks for emulators).
 */
const NATIVE_ALSO: Readonly<Record<string, readonly string[]>> = { amd64: ['386'], arm64: ['arm'] };

/** Whether an engine on `engine` executes programs of `target` without an emulator (the OS aside). */
export function runsNatively(engine: TargetPlatform, target: TargetPlatform): boolean {
  const host = normalizePlatform(engine).architecture;
  const wanted = normalizePlatform(target).architecture;
  return host === wanted || (NATIVE_ALSO[host] ?? []).includes(wanted);
}

/** Whether an engine on `engine` can build `target` at all: Linux engines build Linux images, Windows ones Windows images. */
export function sameOs(engine: TargetPlatform, target: TargetPlatform): boolean {
  return normalizePlatform(engine).os === normalizePlatform(target).os;
}
