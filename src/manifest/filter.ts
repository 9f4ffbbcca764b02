/**
 * ImageBuilder's platform filters: `--os-type`, `--architecture`, `--os-version` and `--path`, each
 * repeatable, with `*` and `?` wildcards. A platform is selected when it matches every filter given
 * (any one value of each). Matching follows ImageBuilder (ManifestFilter): the whole value, case
 * aside, `*` matching any run of characters `/` included; `--path` also takes a folder or a
 * minimatch glob (`src/*\/arm64`), as imagewright's `--path` always did. Pure.
 */
import { minimatch } from 'minimatch';
import { normalizePlatform } from '../platform.js';

export interface PlatformFilter {
  osTypes?: readonly string[];
  architectures?: readonly string[];
  osVersions?: readonly string[];
  paths?: readonly string[];
}

/** What a filter looks at in a platform (a ManifestPlatform fits). */
export interface FilterablePlatform {
  /** Relative to the manifest folder, `/Dockerfile` appended for folders. */
  dockerfile: string;
  os: string;
  osVersion: string;
  architecture: string;
  variant?: string;
}

/** Whether no filter is given: every platform is selected. */
export function isEmptyFilter(filter: PlatformFilter): boolean {
  return ![filter.osTypes, filter.architectures, filter.osVersions, filter.paths].some((values) => values && values.length > 0);
}

/** ImageBuilder's wildcard pattern: escaped, `*` → `.*`, `?` → `.`, anchored, case-insensitive. */
function wildcard(patterns: readonly string[]): RegExp {
  const alternatives = patterns.map((p) => p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.'));
  return new RegExp(`^(?:${alternatives.join('|')})$`, 'i');
}

function matchesPath(dockerfile: string, globs: readonly string[]): boolean {
  const folder = dockerfile.replace(/\/Dockerfile$/, '');
  if (wildcard(globs.map((g) => g.replace(/^\.\//, '').replace(/\/+$/, ''))).test(folder)) return true;
  return globs.some((g) => {
    const glob = g.replace(/^\.\//, '').replace(/\/+$/, '');
    return minimatch(dockerfile, glob) || minimatch(folder, glob) || minimatch(dockerfile, `${glob}/**`);
  });
}

/** Whether `platform` is selected by `filter`. */
export function matchesFilter(platform: FilterablePlatform, filter: PlatformFilter): boolean {
  const given = (values: readonly string[] | undefined): values is readonly string[] => values !== undefined && values.length > 0;
  const { os, architecture, variant } = normalizePlatform(platform);
  if (given(filter.osTypes) && !wildcard(filter.osTypes).test(os)) return false;
  // `arm64`, or with the variant: `arm/v7`, `arm32v7` (ImageBuilder's display name).
  if (given(filter.architectures)) {
    const pattern = wildcard(filter.architectures);
    const names = [architecture, variant ? `${architecture}/${variant}` : '', `${architecture === 'arm' ? 'arm32' : architecture}${variant}`];
    if (!names.some((name) => name && pattern.test(name))) return false;
  }
  if (given(filter.osVersions) && !wildcard(filter.osVersions).test(platform.osVersion)) return false;
  if (given(filter.paths) && !matchesPath(platform.dockerfile, filter.paths)) return false;
  return true;
}

/** The filter as it was given on the command line, for messages: `--os-type linux --architecture arm64`. */
export function describeFilter(filter: PlatformFilter): string {
  const parts: string[] = [];
  const add = (option: string, values: readonly string[] | undefined): void => {
    for (const value of values ?? []) parts.push(`${option} ${value}`);
  };
  add('--os-type', filter.osTypes);
  add('--architecture', filter.architectures);
  add('--os-version', filter.osVersions);
  add('--path', filter.paths);
  return parts.join(' ');
}
