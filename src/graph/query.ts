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

/**
 * The platforms `keep` selects, in the same order, with the edges and reads between them: what a
 * filtered command shows or splits into legs. Edges from platforms left out are dropped (their
 * images are read from the registry as they are).
 */
export function subgraph(graph: BuildGraph, keep: (platform: BuildGraph['order'][number]) => boolean): BuildGraph {
  const order = graph.order.filter(keep);
  const ids = new Set(order.map((p) => p.id));
  return {
    order,
    edges: graph.edges.filter((e) => ids.has(e.from) && ids.has(e.to)),
    reads: new Map([...graph.reads].filter(([id]) => ids.has(id))),
  };
}
