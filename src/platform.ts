/**
 * Platforms as the OCI image spec and BuildKit name them (`os/architecture[/variant]`): formatting,
 * parsing, containerd's normalizations (aarch64 is arm64, arm64's default variant is v8, arm's is
 * v7, ...) and picking a platform's entry out of an image index. Pure; no I/O.
 */

/** A target platform; `variant` only where the architecture has one (`arm/v7`). */
export interface TargetPlatform {
  os: string;
  architecture: string;
  variant?: string;
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

const ARM64_DEFAULT_VARIANTS = new Set(['', '8', 'v8', 'v8.0']);

/** The canonical form used for comparison; variant is always present ('' when the platform has none). */
export function normalizePlatform(platform: TargetPlatform): Required<TargetPlatform> {
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
      if (ARM64_DEFAULT_VARIANTS.has(variant)) variant = 'v8';
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
  return { os, architecture, variant };
}

/** `os/architecture[/variant]`, as Docker prints platforms. */
export function formatPlatform(platform: TargetPlatform): string {
  return [platform.os, platform.architecture, platform.variant].filter((part) => part).join('/');
}

/** Parse `linux/arm64/v8`-style text; undefined when it does not have two or three parts. */
export function parsePlatform(text: string): TargetPlatform | undefined {
  const parts = text.split('/');
  const [os, architecture, variant] = parts;
  if (parts.length < 2 || parts.length > 3 || !os || !architecture) return undefined;
  return variant ? { os, architecture, variant } : { os, architecture };
}

/** Whether an index entry is a BuildKit attestation (provenance/SBOM), never a runnable image. */
export function isAttestationEntry(entry: IndexEntry): boolean {
  if (entry.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest') return true;
  return entry.platform?.os === 'unknown' && entry.platform.architecture === 'unknown';
}

function entryPlatform(entry: IndexEntry): TargetPlatform | undefined {
  const { os, architecture, variant } = entry.platform ?? {};
  if (!os || !architecture) return undefined;
  return variant ? { os, architecture, variant } : { os, architecture };
}

/** The image entries of an index (attestations and platform-less entries left out). */
export function imageEntries(entries: readonly IndexEntry[]): IndexEntry[] {
  return entries.filter((entry) => !isAttestationEntry(entry) && entryPlatform(entry) !== undefined);
}

/** Whether two platforms are the same after normalization (os.version is not compared). */
export function samePlatform(a: TargetPlatform, b: TargetPlatform): boolean {
  const x = normalizePlatform(a);
  const y = normalizePlatform(b);
  return x.os === y.os && x.architecture === y.architecture && x.variant === y.variant;
}

/** The first image entry whose platform equals `target` after normalization. */
export function pickPlatformEntry(entries: readonly IndexEntry[], target: TargetPlatform): IndexEntry | undefined {
  return imageEntries(entries).find((entry) => {
    const offered = entryPlatform(entry);
    return offered !== undefined && samePlatform(offered, target);
  });
}

/** The platforms an index offers, formatted, for error messages. */
export function offeredPlatforms(entries: readonly IndexEntry[]): string[] {
  return imageEntries(entries).map((entry) => formatPlatform(entryPlatform(entry) ?? { os: '?', architecture: '?' }));
}
