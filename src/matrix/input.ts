import type { BuildGraph } from '../graph/types.js';
import type { LegInput } from './types.js';

/** The graph as leg computation reads it: platforms in build order, internal reads as edges. */
export function legInput(graph: BuildGraph): LegInput {
  return { platforms: graph.order, edges: graph.edges.map((e) => ({ from: e.from, to: e.to })) };
}
