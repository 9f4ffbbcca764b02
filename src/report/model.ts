/**
 * What the HTML report shows, as plain data: the graph's platforms with their decision, reasons,
 * inputs and reads, and the edges between them. The page's script reads exactly this (as JSON).
 */
import { indexName, type PlanJson, type PlanJsonPlatform } from '../plan/index.js';
import { edgeLabel } from '../graph/index.js';
import type { BuildGraph } from '../graph/types.js';

/**
 * How a platform is coloured: `retag` is a reuse that adds tags without a rebuild; `unplanned` is a
 * platform the report has no decision for (graph-only mode, or a saved plan that left it out).
 */
export type ReportDecision = 'build' | 'reuse' | 'retag' | 'unplanned';

export const REPORT_DECISIONS: readonly ReportDecision[] = ['build', 'retag', 'reuse', 'unplanned'];

export interface ReportNode {
  id: string;
  repo: string;
  os: string;
  /** `amd64`, `arm64`, or `arm/v7` when the platform has a variant. */
  architecture: string;
  osVersion: string;
  dockerfile: string;
  tags: string[];
  decision: ReportDecision;
  /** Each reason's one-line explanation (plan `reasons[].detail`). */
  reasons: string[];
  /**
   * From the platform whose own inputs changed down to this one, when this one builds only because
   * an upstream does (the plan's `upstream-rebuilt` path); empty otherwise.
   */
  changePath: string[];
  /** What the build key covers, as label and value (digests, the platform, build args). */
  inputs: Array<[string, string]>;
  /** The images it reads: `FROM ref`, `COPY --from ref`… with the digest when planned. */
  reads: string[];
  /** Tags a reuse adds. */
  newTags: string[];
}

export interface ReportIndex {
  name: string;
  action: string;
  reasons: string[];
}

export interface ReportData {
  title: string;
  /** Where the decisions come from: a plan made now, a saved plan file, or none (graph only). */
  source: 'plan' | 'saved-plan' | 'graph';
  nodes: ReportNode[];
  /** `[upstream index, downstream index, how]` into `nodes`. */
  edges: Array<[number, number, string]>;
  /** Shared-tag indexes to create or move. */
  indexes: ReportIndex[];
}

export interface ReportModelOptions {
  title: string;
  graph: BuildGraph;
  /** The plan (`plan --format json` form); undefined for a graph-only report. */
  plan?: PlanJson;
  source: ReportData['source'];
}

export function reportModel(options: ReportModelOptions): ReportData {
  const { graph, plan } = options;
  const planned = new Map<string, PlanJsonPlatform>((plan?.platforms ?? []).map((p) => [p.id, p]));
  const position = new Map(graph.order.map((p, i) => [p.id, i]));
  const nodes = graph.order.map((platform): ReportNode => {
    const p = planned.get(platform.id);
    const upstreamRebuilt = p?.reasons.find((r) => r.kind === 'upstream-rebuilt');
    return {
      id: platform.id,
      repo: platform.repo,
      os: platform.os,
      architecture: platform.variant ? `${platform.architecture}/${platform.variant}` : platform.architecture,
      osVersion: platform.osVersion,
      dockerfile: platform.dockerfile,
      tags: platform.tags,
      decision: !p ? 'unplanned' : p.decision === 'build' ? 'build' : p.newTags.length > 0 || (p.movedTags?.length ?? 0) > 0 ? 'retag' : 'reuse',
      reasons: p?.reasons.map((r) => r.detail) ?? [],
      changePath: upstreamRebuilt?.kind === 'upstream-rebuilt' ? upstreamRebuilt.path : [],
      inputs: p
        ? [
            ['Dockerfile', p.inputs.dockerfile],
            ['context', p.inputs.context],
            ['platform', p.inputs.platform],
            ...Object.entries(p.inputs.buildArgs).map(([name, digest]): [string, string] => [`build arg ${name}`, digest]),
            ['build key', p.buildKey],
          ]
        : [],
      reads: p
        ? p.fromImages.map((r) => `${r.instruction} ${r.ref}${r.digest ? `@${r.digest}` : ''}${r.internal ? ' (built here)' : ''}`)
        : (graph.reads.get(platform.id) ?? []).map((r) => `${r.read.instruction} ${r.ref}${r.internal ? ' (built here)' : ''}`),
      newTags: p?.newTags ?? [],
    };
  });
  const edges = graph.edges.flatMap((e): Array<[number, number, string]> => {
    const from = position.get(e.from);
    const to = position.get(e.to);
    return from === undefined || to === undefined ? [] : [[from, to, edgeLabel(e)]];
  });
  const indexes = (plan?.indexes ?? [])
    .filter((i) => i.action !== 'unchanged')
    .map((i) => ({ name: indexName(i), action: i.action, reasons: i.reasons.map((r) => r.detail) }));
  return { title: options.title, source: options.source, nodes, edges, indexes };
}
