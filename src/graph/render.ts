/** The graph for people and tools: JSON, Mermaid and Graphviz DOT. Nodes in build order. */
import type { BuildGraph, GraphEdge } from './types.js';

export function renderGraphJson(graph: BuildGraph): string {
  const nodes = graph.order.map((p) => ({ id: p.id, dockerfile: p.dockerfile, tags: p.tags }));
  const edges = graph.edges.map((e) => ({ from: e.from, to: e.to, via: e.via, stage: e.stage }));
  return `${JSON.stringify({ nodes, edges }, null, 2)}\n`;
}

export function renderGraphMermaid(graph: BuildGraph): string {
  const ids = mermaidIds(graph.order.map((p) => p.id));
  const lines = ['flowchart LR'];
  for (const p of graph.order) {
    lines.push(`  ${ids.get(p.id)}["${mermaidText(p.id)}<br/>${mermaidText(p.dockerfile)}"]`);
  }
  for (const e of graph.edges) {
    lines.push(`  ${ids.get(e.from)} -->|"${mermaidText(edgeLabel(e))}"| ${ids.get(e.to)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Left to right, one cluster per repo: a repository of hundreds of platforms reads as a few boxes
 * of related images rather than one tall column.
 */
export function renderGraphDot(graph: BuildGraph): string {
  const lines = ['digraph "imagewright" {', '  rankdir="LR";', '  node [shape="box"];'];
  const byRepo = new Map<string, typeof graph.order>();
  for (const p of graph.order) byRepo.set(p.repo, [...(byRepo.get(p.repo) ?? []), p]);
  [...byRepo].forEach(([repo, platforms], i) => {
    lines.push(`  subgraph "cluster_${i}" {`, `    label=${dotString(repo)};`);
    for (const p of platforms) lines.push(`    ${dotString(p.id)} [label=${dotString(`${p.id}\n${p.dockerfile}`)}];`);
    lines.push('  }');
  });
  for (const e of graph.edges) {
    lines.push(`  ${dotString(e.from)} -> ${dotString(e.to)} [label=${dotString(edgeLabel(e))}];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** How a downstream reads an upstream: `FROM`, `COPY, stage build`. */
export function edgeLabel(edge: GraphEdge): string {
  return edge.stage === '' ? edge.via : `${edge.via}, stage ${edge.stage}`;
}

/** Mermaid node ids allow letters, digits and underscores; distinct platform ids must stay distinct. */
export function mermaidIds(platformIds: string[]): Map<string, string> {
  const ids = new Map<string, string>();
  const used = new Set<string>();
  for (const id of platformIds) {
    const base = `n_${id.replace(/[^A-Za-z0-9]/g, '_')}`;
    let candidate = base;
    for (let n = 2; used.has(candidate); n++) candidate = `${base}_${n}`;
    used.add(candidate);
    ids.set(id, candidate);
  }
  return ids;
}

/** Text inside a quoted Mermaid label: characters Mermaid would parse become entity codes. */
export function mermaidText(text: string): string {
  return text.replace(/[#"<>|]/g, (c) => `#${c.charCodeAt(0)};`);
}

/** A DOT double-quoted string; a newline becomes DOT's centered line break. */
function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}
