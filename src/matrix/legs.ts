/**
 * Splitting a manifest's platforms into legs: parallel CI jobs, each building its part on its own
 * machine. Pure: the input is the dependency graph (and, for --only-changed, the set of platforms
 * with something to do).
 *
 * The rule, in order:
 * 1. Group by OS and architecture (and variant; Windows also by OS version, normalized as ImageBuilder
 *    does: `nanoserver-ltsc2022` and `windowsservercore-ltsc2022` share a host), as ImageBuilder's
 *    platformDependencyGraph matrix does.
 * 2. Within a group, the connected components of the internal-dependency graph are legs; components
 *    that share a Dockerfile are one leg (a `--path` for it selects both anyway).
 * 3. A dependency between groups (an arm64 image FROM an amd64 one) crosses legs: the reading leg
 *    goes into a later wave than the leg it reads from. Its wave is the longest chain of such legs
 *    before it, so a leg never needs an image a later wave (or its own wave) builds. Legs whose
 *    cross-group dependencies form a cycle are split into their platforms, which the waves then
 *    order; only platforms of one group sharing a Dockerfile stay together, and a cycle left after
 *    that is joined into one leg.
 * 4. `maxLegs` N caps each wave at N legs: the legs of a crowded wave are packed, largest first, each
 *    into the least loaded leg of its own group (a group is a machine pool, so legs never mix OS
 *    types, Windows releases or architectures); each group keeps at least one leg, so a wave with
 *    more groups than N has one leg per group. Legs of one wave never read from each other, so
 *    packing them keeps the wave rule.
 * 5. `work` (--only-changed) hides platforms with nothing to do and legs left empty, and renumbers
 *    the waves over the dependencies that remain. Names and membership come from steps 1-4 alone,
 *    so `build --leg` finds the same leg after earlier waves changed image-info.
 *
 * Names: `<os>-<arch>-<Dockerfile folder>`, the folder's parts that repeat the OS or architecture
 * dropped, `-graph` when the leg holds several Dockerfiles (ImageBuilder's naming), `-plus-N` when N
 * more legs were packed into it, `-2`, `-3`... when a name repeats.
 */
import { normalizePlatform } from '../platform.js';
import type { Leg, LegInput, LegOptions, LegPlatform, Matrix } from './types.js';

type Edge = { from: string; to: string };

/** A set of platforms on its way to becoming a leg. */
interface Unit {
  ids: string[];
  baseName: string;
  /** How many units were packed into this one. */
  packed: number;
}

export function computeLegs(input: LegInput, options: LegOptions = {}): Matrix {
  const order = new Map(input.platforms.map((p, i) => [p.id, i]));
  const byId = new Map(input.platforms.map((p) => [p.id, p]));
  const edges = input.edges.filter((e) => e.from !== e.to && byId.has(e.from) && byId.has(e.to));
  const ctx: Context = { order, byId, edges };
  let units = joinCycles(components(input.platforms, edges), ctx).map((ids) => unitOf(ids, ctx));
  if (options.maxLegs !== undefined) units = pack(units, waveNumbers(units, ctx), options.maxLegs, ctx);
  let legs = describe(units, ctx);
  if (options.work) legs = onlyWork(legs, options.work, ctx);
  return { legs, waves: legs.reduce((n, leg) => Math.max(n, leg.wave + 1), 0) };
}

interface Context {
  order: ReadonlyMap<string, number>;
  byId: ReadonlyMap<string, LegPlatform>;
  edges: readonly Edge[];
}

/** Step 1 and 2: connected components within each os/architecture group. */
function components(platforms: readonly LegPlatform[], edges: readonly Edge[]): string[][] {
  const parent = new Map(platforms.map((p) => [p.id, p.id]));
  const find = (id: string): string => {
    let root = id;
    while (parent.get(root) !== root) root = parent.get(root) as string;
    parent.set(id, root);
    return root;
  };
  const union = (a: string, b: string): void => {
    const [ra, rb] = [find(a), find(b)];
    if (ra !== rb) parent.set(rb, ra);
  };
  const group = new Map(platforms.map((p) => [p.id, groupKey(p)]));
  for (const e of edges) if (group.get(e.from) === group.get(e.to)) union(e.from, e.to);
  const byDockerfile = new Map<string, string>();
  for (const p of platforms) {
    const key = `${group.get(p.id)}\0${p.dockerfile}`;
    const first = byDockerfile.get(key);
    if (first) union(first, p.id);
    else byDockerfile.set(key, p.id);
  }
  const parts = new Map<string, string[]>();
  for (const p of platforms) {
    const root = find(p.id);
    parts.set(root, [...(parts.get(root) ?? []), p.id]);
  }
  return [...parts.values()];
}

/**
 * Step 3's exception: legs that read from each other in a cycle become one (strongly connected
 * components). Such a cycle across groups comes from components coarser than the platform graph
 * (which has none): its legs are split into their platforms (those of one group sharing a Dockerfile
 * staying together), so that waves order them and no leg mixes machine pools; only a cycle that
 * remains then is joined.
 */
function joinCycles(parts: string[][], ctx: Context, split = true): string[][] {
  const partOf = partIndex(parts);
  const next = parts.map(() => new Set<number>());
  for (const e of ctx.edges) {
    const [a, b] = [partOf.get(e.from), partOf.get(e.to)];
    if (a !== undefined && b !== undefined && a !== b) next[a]?.add(b);
  }
  // Tarjan's algorithm, iteration order fixed by the parts' order.
  let counter = 0;
  const index = new Map<number, number>();
  const low = new Map<number, number>();
  const stack: number[] = [];
  const onStack = new Set<number>();
  const sccs: number[][] = [];
  const visit = (v: number): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next[v] ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: number[] = [];
    let w: number;
    do {
      w = stack.pop() as number;
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    sccs.push(scc);
  };
  parts.forEach((_, i) => {
    if (!index.has(i)) visit(i);
  });
  return sccs.flatMap((scc) => {
    const ids = sortByOrder(scc.flatMap((i) => parts[i] ?? []), ctx);
    const groups = new Set(ids.map((id) => groupKey(ctx.byId.get(id) as LegPlatform)));
    if (!split || scc.length < 2 || groups.size < 2) return [ids];
    const byDockerfile = new Map<string, string[]>();
    for (const id of ids) {
      const p = ctx.byId.get(id) as LegPlatform;
      const key = `${groupKey(p)}\0${p.dockerfile}`;
      byDockerfile.set(key, [...(byDockerfile.get(key) ?? []), id]);
    }
    return joinCycles([...byDockerfile.values()], ctx, false);
  });
}

/** Step 3: each unit's wave, the longest chain of units it reads from. */
function waveNumbers(units: readonly Unit[], ctx: Context): number[] {
  const partOf = partIndex(units.map((u) => u.ids));
  const upstreams = units.map(() => new Set<number>());
  for (const e of ctx.edges) {
    const [a, b] = [partOf.get(e.from) as number, partOf.get(e.to) as number];
    if (a !== b) upstreams[b]?.add(a);
  }
  const waves = new Map<number, number>();
  const waveOf = (u: number, seen: Set<number>): number => {
    const known = waves.get(u);
    if (known !== undefined) return known;
    // Cycles were joined; a repeat here would mean a bug, not a user error.
    if (seen.has(u)) throw new Error('matrix: legs read from each other in a cycle');
    seen.add(u);
    let wave = 0;
    for (const up of upstreams[u] ?? []) wave = Math.max(wave, waveOf(up, seen) + 1);
    seen.delete(u);
    waves.set(u, wave);
    return wave;
  };
  return units.map((_, u) => waveOf(u, new Set()));
}

/**
 * Step 4: at most `max` units per wave, never packing units of different groups together (each
 * group is a machine pool): every group of a crowded wave keeps at least one leg, and the `max`
 * legs are shared out by the groups' platform counts.
 */
function pack(units: readonly Unit[], waves: readonly number[], max: number, ctx: Context): Unit[] {
  const packed: Unit[] = [];
  const waveCount = waves.reduce((n, w) => Math.max(n, w + 1), 0);
  for (let wave = 0; wave < waveCount; wave++) {
    const members = units.filter((_, i) => waves[i] === wave);
    if (members.length <= max) {
      packed.push(...members);
      continue;
    }
    const byGroup = new Map<string, Unit[]>();
    for (const unit of members) byGroup.set(unitGroup(unit, ctx), [...(byGroup.get(unitGroup(unit, ctx)) ?? []), unit]);
    const shares = shareBins(byGroup, max);
    for (const [group, groupUnits] of byGroup) packed.push(...packGroup(groupUnits, shares.get(group) ?? 1, ctx));
  }
  return packed;
}

/** Bins per group: one each, the rest by platform count (largest remainder), never more than a group has units. */
function shareBins(byGroup: ReadonlyMap<string, Unit[]>, max: number): Map<string, number> {
  const size = (units: Unit[]): number => units.reduce((n, u) => n + u.ids.length, 0);
  const shares = new Map([...byGroup.keys()].map((g) => [g, 1]));
  let spare = max - byGroup.size;
  const total = [...byGroup.values()].reduce((n, units) => n + size(units), 0);
  while (spare > 0) {
    // The group furthest below its fair share that can still use a bin.
    let best: string | undefined;
    let bestGap = -Infinity;
    for (const [group, units] of byGroup) {
      const have = shares.get(group) ?? 1;
      if (have >= units.length) continue;
      const gap = (size(units) / total) * max - have;
      if (gap > bestGap) [best, bestGap] = [group, gap];
    }
    if (best === undefined) break;
    shares.set(best, (shares.get(best) ?? 1) + 1);
    spare--;
  }
  return shares;
}

/** Units of one group into `bins` legs: largest first, each into the least loaded. */
function packGroup(units: readonly Unit[], bins: number, ctx: Context): Unit[] {
  if (units.length <= bins) return [...units];
  const largestFirst = [...units].sort((a, b) => b.ids.length - a.ids.length || firstOrder(a, ctx) - firstOrder(b, ctx));
  const filled: Unit[][] = [];
  const load = (bin: Unit[]): number => bin.reduce((n, u) => n + u.ids.length, 0);
  for (const unit of largestFirst) {
    if (filled.length < bins) {
      filled.push([unit]);
      continue;
    }
    let best = 0;
    filled.forEach((bin, i) => {
      if (load(bin) < load(filled[best] as Unit[])) best = i;
    });
    filled[best]?.push(unit);
  }
  return filled.map((bin) => {
    const [first] = bin as [Unit];
    return { ids: sortByOrder(bin.flatMap((u) => u.ids), ctx), baseName: first.baseName, packed: bin.length };
  });
}

/** Units as legs: names made unique, dependencies and waves, in output order. */
function describe(units: readonly Unit[], ctx: Context): Leg[] {
  const waves = waveNumbers(units, ctx);
  const partOf = partIndex(units.map((u) => u.ids));
  const ordered = units.map((unit, i) => ({ unit, i, wave: waves[i] as number })).sort((a, b) => compareUnits(a, b, ctx));
  const taken = new Set<string>();
  const names = new Map<number, string>();
  for (const { unit, i } of ordered) {
    const wanted = unit.packed > 1 ? `${unit.baseName}-plus-${unit.packed - 1}` : unit.baseName;
    let name = wanted;
    for (let n = 2; taken.has(name); n++) name = `${wanted}-${n}`;
    taken.add(name);
    names.set(i, name);
  }
  return ordered.map(({ unit, i, wave }) => {
    const dependsOn = new Set<number>();
    for (const e of ctx.edges) {
      const [a, b] = [partOf.get(e.from) as number, partOf.get(e.to) as number];
      if (b === i && a !== i) dependsOn.add(a);
    }
    return legOf(unit.ids, names.get(i) as string, wave, [...dependsOn].map((d) => names.get(d) as string), ctx);
  });
}

/** Step 5: only the platforms with work, waves counted over the dependencies between them. */
function onlyWork(legs: readonly Leg[], work: ReadonlySet<string>, ctx: Context): Leg[] {
  const remaining = legs
    .map((leg) => ({ leg, ids: leg.platformIds.filter((id) => work.has(id)) }))
    .filter((r) => r.ids.length > 0);
  const units: Unit[] = remaining.map((r) => ({ ids: r.ids, baseName: r.leg.name, packed: 1 }));
  const edges = ctx.edges.filter((e) => work.has(e.from) && work.has(e.to));
  const waves = waveNumbers(units, { ...ctx, edges });
  const partOf = partIndex(units.map((u) => u.ids));
  const legsOut = remaining.map((r, i) => {
    const dependsOn = new Set<string>();
    for (const e of edges) {
      const [a, b] = [partOf.get(e.from) as number, partOf.get(e.to) as number];
      if (b === i && a !== i) dependsOn.add(remaining[a]?.leg.name as string);
    }
    return legOf(r.ids, r.leg.name, waves[i] as number, [...dependsOn], ctx);
  });
  const position = new Map(legs.map((leg, i) => [leg.name, i]));
  return legsOut.sort((a, b) => a.wave - b.wave || (position.get(a.name) ?? 0) - (position.get(b.name) ?? 0));
}

function legOf(ids: string[], name: string, wave: number, dependsOn: string[], ctx: Context): Leg {
  const platforms = ids.map((id) => ctx.byId.get(id) as LegPlatform);
  const normalized = platforms.map((p) => normalizePlatform(p));
  const joined = (values: Array<string | undefined>): string => [...new Set(values.filter((v): v is string => !!v))].join(',');
  const leg: Leg = {
    name,
    wave,
    osType: joined(normalized.map((p) => p.os)),
    architecture: joined(normalized.map((p) => p.architecture)),
    osVersion: joined(platforms.map((p) => windowsOsVersion(p)?.replace(/^windows-/, ''))),
    osVersions: [...new Set(platforms.map((p) => p.osVersion).filter((v) => v))],
    pool: joined(platforms.map(poolName)),
    platformIds: ids,
    paths: [...new Set(platforms.map((p) => p.dockerfile))],
    dependsOn: dependsOn.sort(),
  };
  const variant = joined(normalized.map((p) => p.variant));
  if (variant) leg.variant = variant;
  return leg;
}

/**
 * ImageBuilder's matrix name for a platform's pool (GenerateBuildMatrixCommand: the OS, or the
 * normalized Windows release, and the architecture's display name, camelCased at `-`).
 */
export function poolName(p: LegPlatform): string {
  const { architecture } = normalizePlatform(p);
  const parts = [...(windowsOsVersion(p) ?? p.os.toLowerCase()).split('-'), architecture === 'arm' ? 'arm32' : architecture].filter((part) => part);
  return parts.map((part, i) => (i === 0 ? part : `${part.charAt(0).toUpperCase()}${part.slice(1)}`)).join('');
}

function unitOf(ids: string[], ctx: Context): Unit {
  const platforms = ids.map((id) => ctx.byId.get(id) as LegPlatform);
  const first = platforms[0] as LegPlatform;
  const graph = new Set(platforms.map((p) => p.dockerfile)).size > 1 ? '-graph' : '';
  return { ids, baseName: `${groupName(first)}${folderPart(first)}${graph}`, packed: 1 };
}

/** ImageBuilder's grouping key (PlatformId): OS, architecture, variant, and for Windows the OS version. */
function groupKey(p: LegPlatform): string {
  const { os, architecture, variant } = normalizePlatform(p);
  return [os, windowsOsVersion(p) ?? '', architecture, variant].join('/');
}

function windowsOsVersion(p: LegPlatform): string | undefined {
  if (p.os.toLowerCase() !== 'windows') return undefined;
  return p.osVersion.toLowerCase().replace('nanoserver', 'windows').replace('windowsservercore', 'windows').replace('ltsc2019', '1809');
}

/** `linux-amd64`, `linux-arm32v7`, `windows-ltsc2022-amd64`. */
function groupName(p: LegPlatform): string {
  return `${windowsOsVersion(p) ?? p.os.toLowerCase()}-${architectureDisplay(p)}`;
}

function architectureDisplay(p: LegPlatform): string {
  const { architecture, variant } = normalizePlatform(p);
  return `${architecture === 'arm' ? 'arm32' : architecture}${variant}`;
}

/** `-src-builder` from `src/builder/amd64/Dockerfile` in the linux-amd64 group. */
function folderPart(p: LegPlatform): string {
  const repeated = new Set([p.os, p.architecture, architectureDisplay(p), p.variant ?? '', windowsOsVersion(p) ?? ''].map((s) => s.toLowerCase()));
  const parts = p.dockerfile
    .replace(/\/Dockerfile$/, '')
    .split(/[/\\]+/)
    .map((s) => s.toLowerCase().replace(/[^a-z0-9._-]+/g, '-'))
    .filter((s) => s && s !== '.' && !repeated.has(s));
  return parts.length > 0 ? `-${parts.join('-')}` : '';
}

function unitGroup(unit: Unit, ctx: Context): string {
  return groupKey(ctx.byId.get(unit.ids[0] as string) as LegPlatform);
}

function firstOrder(unit: Unit, ctx: Context): number {
  return ctx.order.get(unit.ids[0] as string) ?? 0;
}

/** Wave, then os/architecture group, then the first platform's place in build order. */
function compareUnits(a: { unit: Unit; wave: number }, b: { unit: Unit; wave: number }, ctx: Context): number {
  const ga = unitGroup(a.unit, ctx);
  const gb = unitGroup(b.unit, ctx);
  return a.wave - b.wave || (ga < gb ? -1 : ga > gb ? 1 : 0) || firstOrder(a.unit, ctx) - firstOrder(b.unit, ctx);
}

function sortByOrder(ids: string[], ctx: Context): string[] {
  return [...ids].sort((a, b) => (ctx.order.get(a) ?? 0) - (ctx.order.get(b) ?? 0));
}

function partIndex(parts: readonly string[][]): Map<string, number> {
  const index = new Map<string, number>();
  parts.forEach((ids, i) => ids.forEach((id) => index.set(id, i)));
  return index;
}

/** The leg called `name`, or undefined. */
export function findLeg(matrix: Matrix, name: string): Leg | undefined {
  return matrix.legs.find((leg) => leg.name === name);
}
