/**
 * Which platforms of a plan a run carries out or shows: ImageBuilder's filters (--os-type,
 * --architecture, --os-version, --path) and `build --leg`, refusing a selection that leaves out an
 * upstream that must build; and which shared-tag indexes that leaves to `publish-manifest`.
 * Pure: the plan and the graph in, a smaller plan out.
 */
import { OptionError } from '../errors.js';
import { subgraph } from '../graph/index.js';
import type { BuildGraph } from '../graph/types.js';
import { describeFilter, isEmptyFilter, matchesFilter, type PlatformFilter } from '../manifest/filter.js';
import type { Manifest } from '../manifest/types.js';
import { computeLegs, findLeg, legInput } from '../matrix/index.js';
import type { Plan, PlatformPlan } from './types.js';

export type { PlatformFilter } from '../manifest/filter.js';

/**
 * Keep only the platforms the filters select (ImageBuilder's --os-type, --architecture, --os-version,
 * --path). An upstream that must build but is left out would make its dependents read a stale
 * image, so that is refused.
 */
export function selectPlatforms(plan: Plan, graph: BuildGraph, filter: PlatformFilter): Plan {
  const selected = filteredPlan(plan, filter);
  if (selected !== plan) checkUpstreamsSelected(plan, graph, selected.platforms, filterOptions(filter));
  return selected;
}

/**
 * The plan of the platforms the filters select, for showing (`plan`): each keyed as in the whole
 * plan, against its real upstreams. A filter that selects nothing is a mistake worth saying.
 */
export function filteredPlan(plan: Plan, filter: PlatformFilter): Plan {
  if (isEmptyFilter(filter)) return plan;
  const selected = plan.platforms.filter((p) => matchesFilter(p.platform, filter));
  if (selected.length === 0) throw noMatch(filter);
  return selectedPlan(plan, selected);
}

/** The manifest platforms the filters select; throws when none is. */
export function filteredGraph(graph: BuildGraph, filter: PlatformFilter): BuildGraph {
  if (isEmptyFilter(filter)) return graph;
  const selected = subgraph(graph, (p) => matchesFilter(p, filter));
  if (selected.order.length === 0) throw noMatch(filter);
  return selected;
}

function noMatch(filter: PlatformFilter): OptionError {
  const option = filterOptions(filter);
  const values = [filter.osTypes, filter.architectures, filter.osVersions, filter.paths].flatMap((v) => v ?? []).join(', ');
  return new OptionError(option, `${values} matches no platform${option === '--path' ? "'s Dockerfile" : ''}`);
}

/** The filter options given, for messages: `--path`, `--os-type, --architecture`. */
function filterOptions(filter: PlatformFilter): string {
  return describeFilter(filter)
    .split(' ')
    .filter((word, i, words) => word.startsWith('--') && words.indexOf(word) === i)
    .join(', ');
}

/**
 * Keep only the platforms of the matrix leg `name` (the legs `imagewright matrix` computes from the
 * same manifest and --max-legs; they never depend on the plan).
 */
export function selectLeg(plan: Plan, graph: BuildGraph, name: string, maxLegs: number | undefined): Plan {
  const ids = legPlatforms(graph, name, maxLegs);
  const selected = plan.platforms.filter((p) => ids.has(p.id));
  checkUpstreamsSelected(plan, graph, selected, '--leg');
  return selectedPlan(plan, selected);
}

/** The platform ids of leg `name` of the matrix of `graph` (already filtered as the matrix was); an unknown name is an OptionError. */
export function legPlatforms(graph: BuildGraph, name: string, maxLegs: number | undefined): Set<string> {
  const matrix = computeLegs(legInput(graph), maxLegs === undefined ? {} : { maxLegs });
  const leg = findLeg(matrix, name);
  if (!leg) {
    const known = matrix.legs.map((l) => l.name).join(', ');
    throw new OptionError('--leg', `no leg is named ${name}${maxLegs === undefined ? '' : ` with --max-legs ${maxLegs}`}; the legs are: ${known}`);
  }
  return new Set(leg.platformIds);
}

/** The selected platforms, and the indexes whose platforms are all among them. */
function selectedPlan(plan: Plan, selected: PlatformPlan[]): Plan {
  const ids = new Set(selected.map((p) => p.id));
  return { platforms: selected, indexes: plan.indexes.filter((index) => index.platforms.every((id) => ids.has(id))) };
}

/**
 * An upstream that must build but is left out would make its dependents read a stale (or missing)
 * image. The graph's edges say who reads whom, whatever the dependent's own reasons are.
 */
function checkUpstreamsSelected(plan: Plan, graph: BuildGraph, selected: Plan['platforms'], option: string): void {
  const chosen = new Set(selected.map((p) => p.id));
  const byId = new Map(plan.platforms.map((p) => [p.id, p]));
  for (const edge of graph.edges) {
    if (!chosen.has(edge.to) || chosen.has(edge.from)) continue;
    const upstream = byId.get(edge.from);
    if (upstream?.decision !== 'build') continue;
    const fix =
      option === '--leg'
        ? 'build the earlier waves first and pass their merged image-info as --image-info'
        : option === '--path'
          ? `add ${upstream.dockerfile}`
          : `build ${edge.from} first, or select it too`;
    throw new OptionError(option, `${edge.to} needs ${edge.from} built first, and ${option} leaves it out; ${fix}`);
  }
}

/** Images whose shared-tag index this run leaves to `publish-manifest` (see partlySelectedImages). */
export interface DeferredIndexes {
  readonly size: number;
  has(image: { repo: string; imageIndex: number }): boolean;
}

/**
 * Images with shared tags of which the run builds some platforms but not all: their other platforms
 * build elsewhere (another leg, or outside the filters), so their index is not this run's to publish.
 */
export function partlySelectedImages(manifest: Manifest, plan: Plan): DeferredIndexes {
  const chosen = new Set(plan.platforms.map((p) => p.id));
  const key = (repo: string, imageIndex: number): string => `${repo}\0${imageIndex}`;
  const partly = new Set<string>();
  for (const repo of manifest.repos) {
    repo.images.forEach((image, i) => {
      const inRun = image.platforms.filter((p) => chosen.has(p.id)).length;
      if (image.sharedTags.length > 0 && inRun > 0 && inRun < image.platforms.length) partly.add(key(repo.name, i));
    });
  }
  return { size: partly.size, has: (image) => partly.has(key(image.repo, image.imageIndex)) };
}
