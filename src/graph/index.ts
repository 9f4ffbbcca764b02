export { buildGraph, manifestPlatforms } from './construct.js';
export { dependentsOf, subgraph, transitiveDependentsOf, upstreamsOf } from './query.js';
export { edgeLabel, mermaidIds, mermaidText, renderGraphDot, renderGraphJson, renderGraphMermaid } from './render.js';
export type { BuildGraph, ClassifiedRead, EdgeVia, GraphEdge } from './types.js';
