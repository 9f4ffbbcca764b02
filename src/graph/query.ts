/** Questions about a built graph. Results are platform ids in build order. */
import type { BuildGraph } from './types.js';

/** The platforms that read `id` directly. */
export function dependentsOf(graph: BuildGraph, id: string): string[] {
  return inBuildOrder(graph, new Set(graph.edges.filter((e) => e.from === id).map((e) => e.to)));
}

/** The platforms `id` reads directly. */
export function upstreamsOf(graph: BuildGraph, id: string): string[] {
  return inBuildOrder(graph, new Set(graph.edges.filter((e) => e.to === id).map((e) => e.from)));
}

/** Everything that reads `id`, directly or through other platforms. */
export function transitiveDependentsOf(graph: BuildGraph, id: string): string[] {
  const found = new Set<string>();
  const pending = [id];
  for (let current = pending.pop(); current !== undefined; current = pending.pop()) {
    for (const next of dependentsOf(graph, current)) {
      if (found.has(next)) continue;
      found.add(next);
      pending.push(next);
    }
  }
  return inBuildOrder(graph, found);
}

function inBuildOrder(graph: BuildGraph, ids: Set<string>): string[] {
  return graph.order.map((p) => p.id).filter((id) => ids.has(id));
}
