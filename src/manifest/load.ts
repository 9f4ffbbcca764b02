/**
 * loadManifest: the ImageBuilder manifest.json, its includes merged, variables substituted, and every
 * platform's Dockerfile found, or one InputError naming the file and JSON path of the first problem.
 */
import path from 'node:path';
import { DockerfileResolver } from './dockerfile.js';
import { assignIds, RepoImages, type PlatformDraft } from './images.js';
import { loadSources, type ManifestSources, type RawRepo } from './includes.js';
import { OptionError } from '../errors.js';
import { at, describeSite, siteError, type Site } from './source.js';
import { qualifiedRepo, type BaseOverride, type ImageLocation, type Manifest, type ManifestRepo } from './types.js';
import { Variables } from './variables.js';

export interface LoadManifestOptions {
  /** `--var name=value` overrides; they win over the manifest's variables and may add new ones. */
  vars?: Record<string, string>;
  /** Receives one line per ignorable problem (unknown fields, an include's own registry). */
  warn?: (message: string) => void;
  /** ImageBuilder's `--registry-override`: push to and read internal images from this registry instead. */
  registryOverride?: string;
  /** ImageBuilder's `--repo-prefix`: prepended to every repo name (e.g. `staging/`), so a run can publish beside the real repos. */
  repoPrefix?: string;
  /** ImageBuilder's `--base-override-regex` and `--base-override-sub`: both or neither. */
  baseOverrideRegex?: string;
  baseOverrideSub?: string;
}

/** Host, optional port; `localhost`, a dotted name or a bracketed IPv6 address. */
const REGISTRY_HOST =
  /^(?:localhost|\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::\d{1,5})?$/;
/** Docker's repository path grammar (distribution/reference), lowercase components separated by '/'. */
const REPO_NAME = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

interface RepoGroup {
  name: string;
  id?: string;
  parts: RawRepo[];
}

export async function loadManifest(file: string, options: LoadManifestOptions = {}): Promise<Manifest> {
  const warn = options.warn ?? ((): void => undefined);
  const abs = path.resolve(file);
  const dir = path.dirname(abs);
  const sources = loadSources(abs, file, warn);
  const registry = checkRegistry(sources);
  const location: ImageLocation = {
    registry: options.registryOverride !== undefined ? checkRegistryOverride(options.registryOverride) : registry,
    repoPrefix: checkRepoPrefix(options.repoPrefix ?? ''),
  };
  const baseOverride = checkBaseOverride(options.baseOverrideRegex, options.baseOverrideSub);
  const groups = consolidateRepos(sources.repos);
  if (groups.length === 0) throw sources.main.error(['repos'], 'the manifest and its includes define no repos');
  const qualifiedNames = repoIdIndex(groups, location);
  const variables = new Variables(sources.variables, options.vars ?? {}, (id) => qualifiedNames.get(id));
  const resolvedVariables = variables.all();

  const repos: ManifestRepo[] = [];
  const drafts: PlatformDraft[] = [];
  for (const group of groups) {
    const built = new RepoImages(group.name, variables);
    for (const part of group.parts) {
      part.json.images.forEach((image, index) => built.add(image, at(part.site, 'images', index)));
    }
    const first = group.parts[0] as RawRepo;
    const repo: ManifestRepo = { name: group.name, images: built.images, location: first.site.file.location(first.site.path) };
    if (group.id !== undefined) repo.id = group.id;
    repos.push(repo);
    drafts.push(...built.drafts);
  }
  assignIds(drafts);
  resolveDockerfiles(drafts, dir);
  const manifest: Manifest = { file: abs, dir, registry, location, variables: resolvedVariables, repos };
  if (baseOverride) manifest.baseOverride = baseOverride;
  return manifest;
}

function checkRegistry(sources: ManifestSources): string {
  const { registry, main } = sources;
  if (registry === '') return '';
  if (!REGISTRY_HOST.test(registry)) {
    throw main.error(['registry'], `must be a registry host with an optional port, like mcr.microsoft.com or 127.0.0.1:5000, not ${JSON.stringify(registry)}`);
  }
  // Docker reads a first path component without a dot or port (other than localhost) as a Docker Hub namespace.
  if (!/[.:[]/.test(registry) && registry !== 'localhost') {
    throw main.error(['registry'], `${JSON.stringify(registry)} would be read as a Docker Hub namespace; a registry host needs a dot or a port, or must be localhost`);
  }
  return registry;
}

function checkRegistryOverride(registry: string): string {
  if (!REGISTRY_HOST.test(registry) || (!/[.:[]/.test(registry) && registry !== 'localhost')) {
    throw new OptionError('--registry-override', `must be a registry host with an optional port, like mcr.microsoft.com or 127.0.0.1:5000, not ${JSON.stringify(registry)}`);
  }
  return registry;
}

function checkRepoPrefix(prefix: string): string {
  if (prefix !== '' && !REPO_NAME.test(prefix.replace(/\/$/, ''))) {
    throw new OptionError('--repo-prefix', `${JSON.stringify(prefix)} is not a valid repository path prefix, like staging/ or ci/run-42/`);
  }
  return prefix;
}

function checkBaseOverride(regex: string | undefined, sub: string | undefined): BaseOverride | undefined {
  if (regex === undefined && sub === undefined) return undefined;
  if (regex === undefined || sub === undefined) {
    const [given, missing] = regex === undefined ? ['--base-override-sub', '--base-override-regex'] : ['--base-override-regex', '--base-override-sub'];
    throw new OptionError(given, `needs ${missing} too (ImageBuilder's options go together)`);
  }
  let pattern: RegExp;
  try {
    // .NET's Regex.Replace replaces every match, as the `g` flag does.
    pattern = new RegExp(regex, 'g');
  } catch (err) {
    throw new OptionError('--base-override-regex', `${JSON.stringify(regex)} is not a valid regular expression (${(err as Error).message})`);
  }
  return { pattern, replacement: dotnetReplacement(sub) };
}

/**
 * .NET's substitution syntax in JavaScript's: `${name}` → `$<name>`, `${1}` → `$1`, `$0` → `$&`.
 * `$1`, `$$` and literal text mean the same in both.
 */
export function dotnetReplacement(sub: string): string {
  return sub.replace(/\$(\$|\{([^}]*)\}|0(?!\d))/g, (whole: string, token: string, name: string | undefined) => {
    if (token === '$') return '$$';
    if (token === '0') return '$&';
    if (name === undefined) return whole;
    return /^\d+$/.test(name) ? (name === '0' ? '$&' : `$${name}`) : `$<${name}>`;
  });
}

/** Repos of the same name become one, images in manifest order (ImageBuilder does the same across includes). */
function consolidateRepos(raws: readonly RawRepo[]): RepoGroup[] {
  const groups = new Map<string, RepoGroup>();
  const idSites = new Map<string, Site>();
  for (const raw of raws) {
    const { name, id } = raw.json;
    if (!REPO_NAME.test(name) || name.length > 255) {
      throw siteError(at(raw.site, 'name'), `${JSON.stringify(name)} is not a valid repository name: lowercase letters, digits and separators (. _ __ -) in '/'-separated parts`);
    }
    let group = groups.get(name);
    if (!group) {
      group = { name, parts: [] };
      groups.set(name, group);
    }
    if (id !== undefined) {
      const earlier = idSites.get(name);
      if (earlier && group.id !== id) {
        throw siteError(at(raw.site, 'id'), `repo ${name} already has id ${JSON.stringify(group.id)} at ${describeSite(earlier, raw.site.file)}; one repo cannot have two ids`);
      }
      if (!earlier) {
        group.id = id;
        idSites.set(name, at(raw.site, 'id'));
      }
    }
    group.parts.push(raw);
  }
  return [...groups.values()];
}

/** id → registry-qualified name at this run's location, the value of `$(Repo:<id>)` (as ImageBuilder's QualifiedName). A repo without an id is known by its name. */
function repoIdIndex(groups: readonly RepoGroup[], location: ImageLocation): Map<string, string> {
  const index = new Map<string, string>();
  const sites = new Map<string, Site>();
  for (const group of groups) {
    const id = group.id ?? group.name;
    const first = group.parts[0] as RawRepo;
    const site = at(first.site, group.id !== undefined ? 'id' : 'name');
    const earlier = sites.get(id);
    if (earlier) throw siteError(site, `repo id ${JSON.stringify(id)} is already used by ${describeSite(earlier, site.file)}`);
    sites.set(id, site);
    index.set(id, qualifiedRepo({ location }, group.name));
  }
  return index;
}

function resolveDockerfiles(drafts: readonly PlatformDraft[], dir: string): void {
  const resolver = new DockerfileResolver(dir);
  drafts.forEach(({ platform, site, entry }) => {
    const resolution = resolver.resolve(entry);
    if ('problem' in resolution) throw siteError(at(site, 'dockerfile'), resolution.problem);
    platform.dockerfile = resolution.ok.relative;
    platform.dockerfilePath = resolution.ok.absolute;
    platform.contextDir = resolution.ok.contextDir;
  });
}
