/**
 * The dependency graph between the manifest's platforms: which platform reads which, through what,
 * and the order to build them in. Pure; no I/O.
 */
import { displayPath } from '../paths.js';
import type { DockerfileAnalysis, ImageRead, ReadInstruction } from '../dockerfile/types.js';
import { InputError } from '../errors.js';
import { publicTag, qualifiedTag, type Manifest, type ManifestPlatform } from '../manifest/types.js';
import { canonicalPlatform, formatPlatform, manifestTargetPlatform, parsePlatform, samePlatform, type TargetPlatform } from '../platform.js';
import { formatReference, normalizeReference, parseReference } from '../reference.js';
import type { BuildGraph, ClassifiedRead, EdgeVia, GraphEdge } from './types.js';

const VIA: Record<ReadInstruction, EdgeVia> = {
  FROM: 'FROM',
  SYNTAX: 'FROM',
  COPY: 'COPY',
  ADD: 'COPY',
  ONBUILD: 'COPY',
  MOUNT: 'MOUNT',
};

/** The manifest's platforms in manifest order (repos, then images, then platforms). */
export function manifestPlatforms(manifest: Manifest): ManifestPlatform[] {
  return manifest.repos.flatMap((repo) => repo.images.flatMap((image) => image.platforms));
}

/**
 * Build the graph from each platform's Dockerfile analysis (keyed by platform id).
 * Throws InputError for a reference no platform can satisfy and for dependency cycles.
 */
export function buildGraph(manifest: Manifest, analyses: Map<string, DockerfileAnalysis>): BuildGraph {
  const platforms = manifestPlatforms(manifest);
  const tags = indexTags(manifest);
  const reads = new Map<string, ClassifiedRead[]>();
  const edges: GraphEdge[] = [];
  const seenEdges = new Set<string>();
  for (const platform of platforms) {
    const analysis = analyses.get(platform.id);
    if (!analysis) throw new Error(`no Dockerfile analysis for platform ${platform.id}`);
    const classified = reachableReads(analysis).map((read) => classifyRead(read, platform, tags, manifest));
    reads.set(platform.id, classified);
    for (const c of classified) {
      if (c.internal === undefined) continue;
      const edge: GraphEdge = { from: c.internal, to: platform.id, via: VIA[c.read.instruction], stage: c.read.stage };
      const key = JSON.stringify([edge.from, edge.to, edge.via, edge.stage]);
      if (seenEdges.has(key)) continue;
      seenEdges.add(key);
      edges.push(edge);
    }
  }
  const order = buildOrder(platforms, edges, reads);
  const position = new Map(order.map((p, i) => [p.id, i]));
  // Edges listed by their downstream's place in the build order; within it, in Dockerfile order.
  const sortedEdges = edges
    .map((edge, i) => ({ edge, i }))
    .sort((a, b) => (position.get(a.edge.to) ?? 0) - (position.get(b.edge.to) ?? 0) || a.i - b.i)
    .map(({ edge }) => edge);
  const orderedReads = new Map(order.map((p) => [p.id, reads.get(p.id) ?? []]));
  return { order, edges: sortedEdges, reads: orderedReads };
}

/** The analyzer lists only reachable reads; filtering again keeps an unreachable stage out of keys regardless. */
function reachableReads(analysis: DockerfileAnalysis): ImageRead[] {
  return analysis.reads.filter((read) => read.stageIndex < 0 || analysis.stages[read.stageIndex]?.reachable !== false);
}

/** One of the manifest's tags, under both of its names. */
interface InternalTag {
  /** Normalized public name (`publicTag`): what keys and records use. */
  ref: string;
  /** Normalized name at this run's location (`qualifiedTag`): what the build reads. */
  located: string;
}

interface TagIndex {
  /** Normalized public or located name of a platform tag → that platform. */
  platformTags: Map<string, { platform: ManifestPlatform; tag: InternalTag }>;
  /** Normalized public or located name of a shared tag → the platforms of that image. */
  sharedTags: Map<string, { platforms: ManifestPlatform[]; tag: InternalTag }>;
}

/**
 * Every tag of the manifest under its public name, which Dockerfiles use (`FROM mcr.microsoft.com/<repo>:<tag>`),
 * and under its name at this run's location, which `$(Repo:<id>)` gives build args. Without
 * --registry-override and --repo-prefix the two are the same.
 */
function indexTags(manifest: Manifest): TagIndex {
  const platformTags: TagIndex['platformTags'] = new Map();
  const sharedTags: TagIndex['sharedTags'] = new Map();
  const names = (repo: string, tag: string): InternalTag | undefined => {
    const ref = normalizeReference(publicTag(manifest, repo, tag));
    const located = normalizeReference(qualifiedTag(manifest, repo, tag));
    return ref && located ? { ref, located } : undefined;
  };
  for (const repo of manifest.repos) {
    for (const image of repo.images) {
      for (const name of image.sharedTags) {
        const tag = names(repo.name, name);
        if (!tag) continue;
        for (const key of [tag.ref, tag.located]) if (!sharedTags.has(key)) sharedTags.set(key, { platforms: image.platforms, tag });
      }
      for (const platform of image.platforms) {
        for (const name of platform.tags) {
          const tag = names(platform.repo, name);
          if (!tag) continue;
          for (const key of new Set([tag.ref, tag.located])) {
            const other = platformTags.get(key)?.platform;
            if (other && other.id !== platform.id) {
              throw new InputError(platform.location.file, platform.location.path, `tag ${key} is also a tag of ${other.id}`);
            }
            platformTags.set(key, { platform, tag });
          }
        }
      }
    }
  }
  return { platformTags, sharedTags };
}

function classifyRead(read: ImageRead, platform: ManifestPlatform, tags: TagIndex, manifest: Pick<Manifest, 'baseOverride'>): ClassifiedRead {
  const file = displayPath(platform.dockerfilePath || platform.dockerfile);
  const parsed = parseReference(read.ref);
  if (!parsed) throw new InputError(file, `line ${read.line}`, `"${read.ref}" is not a valid image reference`);
  const ref = formatReference(parsed);
  const target = readPlatform(read, platform, file);
  const classified: ClassifiedRead = { read, ref, platform: formatPlatform(target) };
  // A digest pins bytes that exist already; nothing the manifest builds can produce them.
  const own = parsed.digest ? undefined : tags.platformTags.get(ref);
  if (own) return internalRead(classified, own.platform, own.tag);
  const image = parsed.digest ? undefined : tags.sharedTags.get(ref);
  if (!image) return externalRead(classified, manifest, file);
  const match = pickSharedPlatform(image.platforms, target);
  if (!match) {
    throw new InputError(
      file,
      `line ${read.line}`,
      `${read.ref} names the multi-arch image ${ref}, which has no ${formatPlatform(target)} platform (it has ${image.platforms.map((p) => formatPlatform(manifestTargetPlatform(p))).join(', ')})`,
    );
  }
  return internalRead(classified, match, image.tag);
}

function internalRead(classified: ClassifiedRead, upstream: ManifestPlatform, tag: InternalTag): ClassifiedRead {
  const read: ClassifiedRead = { ...classified, ref: tag.ref, internal: upstream.id };
  if (tag.located !== tag.ref) read.source = tag.located;
  return read;
}

/** An external read, redirected by --base-override-regex/--base-override-sub when they match. */
function externalRead(classified: ClassifiedRead, manifest: Pick<Manifest, 'baseOverride'>, file: string): ClassifiedRead {
  const override = manifest.baseOverride;
  if (!override) return classified;
  const written = classified.read.ref;
  const rewritten = written.replace(override.pattern, override.replacement);
  if (rewritten === written) return classified;
  const source = normalizeReference(rewritten);
  if (!source) {
    throw new InputError(file, `line ${classified.read.line}`, `--base-override-regex/--base-override-sub turn ${written} into ${JSON.stringify(rewritten)}, which is not a valid image reference`);
  }
  return source === classified.ref ? classified : { ...classified, source };
}

/**
 * The platform an image is read for: the stage's `--platform` (or the build platform, for the
 * syntax frontend), else the platform being built, with its Windows release. A stage whose
 * `--platform` is the target's own platform also takes the target's Windows release.
 */
function readPlatform(read: ImageRead, platform: ManifestPlatform, file: string): TargetPlatform {
  const target = manifestTargetPlatform(platform);
  if (!read.platform) return target;
  const parsed = parsePlatform(read.platform.trim().toLowerCase());
  if (!parsed) {
    throw new InputError(file, `line ${read.line}`, `"${read.platform}" is not a platform: write os/architecture[/variant], e.g. linux/arm64`);
  }
  const explicit = canonicalPlatform(parsed);
  const { ociOsVersion, ...unversioned } = target;
  return ociOsVersion && !explicit.ociOsVersion && samePlatform(explicit, unversioned) ? target : explicit;
}

/** The platform of a multi-arch image that a read for `target` gets; Windows images also differ by release. */
function pickSharedPlatform(image: ManifestPlatform[], target: TargetPlatform): ManifestPlatform | undefined {
  const { ociOsVersion, ...unversioned } = target;
  const candidates = image.filter((p) => {
    const { ociOsVersion: _version, ...offered } = manifestTargetPlatform(p);
    return samePlatform(offered, unversioned);
  });
  if (!ociOsVersion) return candidates[0];
  // A Windows read takes the image's platform for the same release, or one that names no release.
  return candidates.find((p) => manifestTargetPlatform(p).ociOsVersion === ociOsVersion) ?? candidates.find((p) => !manifestTargetPlatform(p).ociOsVersion);
}

/** Kahn's algorithm; among the platforms ready to build, the earliest in the manifest goes first. */
function buildOrder(platforms: ManifestPlatform[], edges: GraphEdge[], reads: Map<string, ClassifiedRead[]>): ManifestPlatform[] {
  const position = new Map(platforms.map((p, i) => [p.id, i]));
  const upstreams = adjacency(platforms, edges, 'to', 'from');
  const downstreams = adjacency(platforms, edges, 'from', 'to');
  const waiting = new Map(platforms.map((p) => [p.id, upstreams.get(p.id)?.size ?? 0]));
  const ready = platforms.filter((p) => waiting.get(p.id) === 0).map((p) => p.id);
  const order: ManifestPlatform[] = [];
  while (ready.length > 0) {
    const id = ready.shift() as string;
    order.push(platforms[position.get(id) ?? 0] as ManifestPlatform);
    for (const next of downstreams.get(id) ?? []) {
      const left = (waiting.get(next) ?? 0) - 1;
      waiting.set(next, left);
      if (left === 0) insertByPosition(ready, next, position);
    }
  }
  if (order.length < platforms.length) {
    const done = new Set(order.map((p) => p.id));
    const cycle = findCycle(platforms.filter((p) => !done.has(p.id)).map((p) => p.id), upstreams, position);
    // Blame the read behind the cycle's first arrow: where the second platform reads the first.
    const [first, second] = [cycle[0] as string, (cycle[1] ?? cycle[0]) as string];
    const reader = platforms[position.get(second) ?? 0] as ManifestPlatform;
    const read = reads.get(second)?.find((r) => r.internal === first);
    throw new InputError(
      displayPath(reader.dockerfilePath || reader.dockerfile),
      read ? `line ${read.read.line}` : undefined,
      `dependency cycle between images: ${cycle.join(' → ')}`,
    );
  }
  return order;
}

function adjacency(platforms: ManifestPlatform[], edges: GraphEdge[], key: 'from' | 'to', value: 'from' | 'to'): Map<string, Set<string>> {
  const map = new Map<string, Set<string>>(platforms.map((p) => [p.id, new Set<string>()]));
  for (const edge of edges) map.get(edge[key])?.add(edge[value]);
  return map;
}

function insertByPosition(queue: string[], id: string, position: Map<string, number>): void {
  const at = position.get(id) ?? 0;
  let i = queue.length;
  while (i > 0 && (position.get(queue[i - 1] as string) ?? 0) > at) i--;
  queue.splice(i, 0, id);
}

/**
 * A cycle among the platforms Kahn's algorithm could not order, as `a, b, c, a` in read direction
 * (a is read by b ...), starting at its earliest platform in manifest order. Every such platform has an
 * upstream among them, so walking upstream from any of them must revisit one.
 */
function findCycle(stuck: string[], upstreams: Map<string, Set<string>>, position: Map<string, number>): string[] {
  const inStuck = new Set(stuck);
  const byPosition = (a: string, b: string): number => (position.get(a) ?? 0) - (position.get(b) ?? 0);
  const walk: string[] = [];
  const seenAt = new Map<string, number>();
  let current = stuck[0] as string;
  while (!seenAt.has(current)) {
    seenAt.set(current, walk.length);
    walk.push(current);
    const next = [...(upstreams.get(current) ?? [])].filter((id) => inStuck.has(id)).sort(byPosition)[0];
    if (next === undefined) break;
    current = next;
  }
  const loop = walk.slice(seenAt.get(current) ?? 0).reverse();
  const first = loop.indexOf([...loop].sort(byPosition)[0] as string);
  const rotated = [...loop.slice(first), ...loop.slice(0, first)];
  return [...rotated, rotated[0] as string];
}
