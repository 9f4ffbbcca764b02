/**
 * Reads the top-level manifest and, depth first, every file it includes, checking each one's structure,
 * and gathers their repos and variables in manifest order (a file's own entries before its includes').
 * ImageBuilder reads one level of includes, each relative to the top manifest; a nested include here is
 * relative to the file naming it, which is the same thing for one level.
 */
import { lstatSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { displayPath, isWithin } from '../paths.js';
import type { RawManifestJson, RawRepoJson } from './raw.js';
import { checkStructure } from './schema.js';
import { at, describeSite, readSource, siteError, type Site, type SourceFile } from './source.js';

export interface RawRepo {
  site: Site;
  json: RawRepoJson;
}

export interface RawVariable {
  name: string;
  value: string;
  site: Site;
}

export interface ManifestSources {
  main: SourceFile;
  registry: string;
  variables: Map<string, RawVariable>;
  repos: RawRepo[];
}

interface LoadState {
  warn: (message: string) => void;
  main?: SourceFile;
  registry: string;
  variables: Map<string, RawVariable>;
  repos: RawRepo[];
  /** Every file read so far, with the include entry that named it. */
  included: Map<string, Site | undefined>;
  /** The top-level manifest's folder, symbolic links resolved: no include may lead outside it. */
  repositoryReal?: string;
}

export function loadSources(mainAbs: string, mainDisplay: string, warn: (message: string) => void): ManifestSources {
  const state: LoadState = { warn, registry: '', variables: new Map(), repos: [], included: new Map() };
  visit(mainAbs, mainDisplay, undefined, [mainAbs], state);
  if (!state.main) throw new Error('unreachable: the top-level manifest was not read');
  return { main: state.main, registry: state.registry, variables: state.variables, repos: state.repos };
}

function visit(abs: string, display: string, blame: Site | undefined, chain: string[], state: LoadState): void {
  const file = readSource(abs, display, blame);
  checkStructure(file, state.warn);
  const json = file.value as RawManifestJson;
  const root: Site = { file, path: [] };
  state.included.set(abs, blame);
  state.main ??= file;
  takeRegistry(json, root, state);
  takeVariables(json, root, state);
  (json.repos ?? []).forEach((repo, index) => state.repos.push({ site: at(root, 'repos', index), json: repo }));
  for (const [index, entry] of (json.includes ?? []).entries()) {
    const site = at(root, 'includes', index);
    const target = includeTarget(entry, site);
    refuseOutside(target, site, state);
    if (chain.includes(target)) {
      const cycle = [...chain.slice(chain.indexOf(target)), target].map(displayPath).join(' -> ');
      throw siteError(site, `include cycle: ${cycle}`);
    }
    if (state.included.has(target)) {
      const earlier = state.included.get(target);
      const where = earlier ? ` by ${describeSite(earlier, file)}` : ' (it is the top-level manifest)';
      throw siteError(site, `${JSON.stringify(displayPath(target))} is already included${where}`);
    }
    visit(target, displayPath(target), site, [...chain, target], state);
  }
}

function includeTarget(entry: string, site: Site): string {
  if (path.isAbsolute(entry) || /^[A-Za-z]:[\\/]/.test(entry)) {
    throw siteError(site, `include must be a path relative to this file, not ${JSON.stringify(entry)}`);
  }
  return path.resolve(path.dirname(site.file.abs), entry.replace(/\\/g, '/'));
}

/**
 * An include that leads outside the top-level manifest's folder, by `..` or through a symbolic link,
 * would read files the repository does not control. A missing file is left to the reader to report.
 */
function refuseOutside(target: string, site: Site, state: LoadState): void {
  let real: string;
  try {
    real = realpathSync.native(target);
  } catch {
    return;
  }
  // The top-level file is read first, so it is the main manifest when an include is met.
  state.repositoryReal ??= realpathSync.native(path.dirname(state.main?.abs ?? site.file.abs));
  if (!isWithin(state.repositoryReal, real)) {
    const through = lstatSync(target).isSymbolicLink() ? ' through a symbolic link' : '';
    throw siteError(site, `included file ${JSON.stringify(displayPath(target))} leads outside the manifest's folder${through}`);
  }
}

/** Only the top-level manifest names the registry, as in ImageBuilder; a different value in an include is ignored. */
function takeRegistry(json: RawManifestJson, root: Site, state: LoadState): void {
  if (json.registry === undefined) return;
  if (root.file === state.main) {
    state.registry = json.registry;
  } else if (json.registry !== state.registry) {
    state.warn(
      `${root.file.display}: ${root.file.where(['registry'])}: ignored; the top-level manifest's registry ${JSON.stringify(state.registry)} applies`,
    );
  }
}

/** Variables from all files share one namespace; ImageBuilder, too, refuses a name defined twice. */
function takeVariables(json: RawManifestJson, root: Site, state: LoadState): void {
  const variables = json.variables;
  if (!variables) return;
  for (const name of root.file.keysOf(variables, ['variables'])) {
    const site = at(root, 'variables', name);
    const earlier = state.variables.get(name);
    if (earlier) throw siteError(site, `variable ${JSON.stringify(name)} is already defined at ${describeSite(earlier.site, root.file)}`);
    state.variables.set(name, { name, value: root.file.scalarText(variables[name] ?? '', site.path), site });
  }
}
