/**
 * The plan as a GitHub Actions step summary (Markdown) and step outputs. A scheduled stale check
 * reads it to learn what is stale and why, above all which upstream image moved to which digest.
 */
import { shortDigest } from '../digest.js';
import { describeInstruction } from './explain.js';
import { mermaidIds, mermaidText } from '../graph/index.js';
import { indexName, planCounts, planHasWork, tagsToPut } from './render.js';
import type { Plan, PlatformPlan, Reason } from './types.js';

type ImageMove = Extract<Reason, { kind: 'from-image-changed' }>;

/** Mermaid renders at most this many characters of diagram text (its default maxTextSize). */
export const MERMAID_MAX_TEXT = 50_000;

export interface GithubSummaryOptions {
  /** Internal reads between platforms (the graph's edges): the affected subgraph is drawn from them. */
  edges?: ReadonlyArray<{ from: string; to: string }>;
  /** Where the HTML report is (e.g. the workflow run, which has it as an artifact). */
  reportUrl?: string;
}

export function renderPlanGithub(plan: Plan, options: GithubSummaryOptions = {}): string {
  const stale = plan.platforms.filter((p) => p.decision === 'build');
  const total = plan.platforms.length;
  const { publish } = planCounts(plan);
  const publishing = publish > 0 ? ` **${publish} shared-tag ${indexes(publish)} to publish.**` : '';
  const report = options.reportUrl ? `The full picture, every platform with its inputs and reasons: [HTML report](${options.reportUrl}).` : '';
  const moved = plan.platforms.flatMap((p) => p.movedTags.map((m) => ({ id: p.id, moved: m })));
  if (stale.length === 0 && publish === 0 && moved.length === 0) {
    return `## imagewright plan: up to date\n\nAll ${total} ${platforms(total)} can be reused; nothing to build.${addedTags(plan)}\n${report ? `\n${report}\n` : ''}`;
  }
  const sections = [
    stale.length > 0
      ? `## imagewright plan: ${stale.length} of ${total} ${platforms(total)} stale`
      : publish > 0
        ? `## imagewright plan: ${publish} shared-tag ${indexes(publish)} to publish`
        : `## imagewright plan: ${moved.length} moved ${moved.length === 1 ? 'tag' : 'tags'} to put back`,
    `**${stale.length} to build**, ${total - stale.length} to reuse.${publishing}${addedTags(plan)}`,
    countsTable(plan),
    report,
    moved.length > 0
      ? ['### Moved tags, put back on the recorded image without a rebuild', '', '| Platform | Why |', '| --- | --- |', ...moved.map((m) => `| ${code(m.id)} | ${cell(m.moved.detail)} |`)].join('\n')
      : '',
    movedImages(stale),
    options.edges && stale.length > 0 ? affectedGraph(plan, options.edges) : '',
    stale.length > 0 ? staleTable(stale) : '',
    indexTable(plan),
  ];
  return `${sections.filter((s) => s).join('\n\n')}\n`;
}

/**
 * `GITHUB_OUTPUT` lines: whether anything must be done (build, retag or publish an index), how many
 * platforms build, how many shared-tag indexes are published.
 */
export function planGithubOutputs(plan: Plan): string {
  const { build, publish } = planCounts(plan);
  return `stale=${planHasWork(plan)}\nbuild-count=${build}\npublish-count=${publish}\n`;
}

function countsTable(plan: Plan): string {
  const { build, reuse, publish } = planCounts(plan);
  const retag = plan.platforms.filter((p) => p.decision === 'reuse' && tagsToPut(p).length > 0).length;
  return ['| Build | Reuse | of which re-tagged | Indexes to publish | Platforms |', '| ---: | ---: | ---: | ---: | ---: |', `| ${build} | ${reuse} | ${retag} | ${publish} | ${plan.platforms.length} |`].join('\n');
}

/**
 * The platforms that build, with the reused images they read directly (for context), as a Mermaid
 * flowchart; when that is over Mermaid's text limit, a sentence instead (the table below lists them).
 */
function affectedGraph(plan: Plan, edges: ReadonlyArray<{ from: string; to: string }>): string {
  const building = new Set(plan.platforms.filter((p) => p.decision === 'build').map((p) => p.id));
  const shown = edges.filter((e) => building.has(e.to));
  const context = new Set(shown.map((e) => e.from).filter((id) => !building.has(id)));
  const nodes = plan.platforms.filter((p) => building.has(p.id) || context.has(p.id));
  const ids = mermaidIds(nodes.map((p) => p.id));
  const lines = [
    'flowchart LR',
    ...nodes.map((p) => `  ${ids.get(p.id)}["${mermaidText(p.id)}"]:::${p.decision}`),
    ...shown.map((e) => `  ${ids.get(e.from)} --> ${ids.get(e.to)}`),
    '  classDef build fill:#fde2e1,stroke:#c0392b,color:#000',
    '  classDef reuse fill:#eeeeee,stroke:#999999,color:#555',
  ];
  const text = lines.join('\n');
  const heading = `### What builds (${building.size} ${platforms(building.size)}; grey: reused images they read)`;
  if (text.length > MERMAID_MAX_TEXT) {
    return `${heading}\n\nThe graph of ${nodes.length} platforms is ${text.length.toLocaleString('en-US')} characters of Mermaid, over its ${MERMAID_MAX_TEXT.toLocaleString('en-US')}-character limit: the table below lists them.`;
  }
  return `${heading}\n\n\`\`\`mermaid\n${text}\n\`\`\``;
}

function indexes(n: number): string {
  return n === 1 ? 'index' : 'indexes';
}

function indexTable(plan: Plan): string {
  const moving = plan.indexes.filter((i) => i.action !== 'unchanged');
  if (moving.length === 0) return '';
  const rows = moving.map((i) => `| ${i.action} | ${code(indexName(i))} | ${i.reasons.map((r) => cell(r.detail)).join('<br>')} |`);
  return ['### Shared-tag indexes to publish', '', '| Action | Index | Why |', '| --- | --- | --- |', ...rows].join('\n');
}

function platforms(n: number): string {
  return n === 1 ? 'platform' : 'platforms';
}

function addedTags(plan: Plan): string {
  const gaining = plan.platforms.filter((p) => p.decision === 'reuse' && p.newTags.length > 0).length;
  if (gaining === 0) return '';
  return ` ${gaining} reused ${platforms(gaining)} ${gaining === 1 ? 'gains' : 'gain'} new tags without a rebuild.`;
}

/**
 * One line per upstream digest move, with how many platforms read it directly: for a scheduled check
 * this is usually the whole story (a base image was republished).
 */
function movedImages(stale: PlatformPlan[]): string {
  const readers = new Map<string, { move: ImageMove; ids: Set<string> }>();
  for (const p of stale) {
    for (const r of p.reasons) {
      if (r.kind !== 'from-image-changed' || !r.oldDigest) continue;
      const key = JSON.stringify([r.ref, r.oldDigest, r.newDigest]);
      const entry = readers.get(key) ?? { move: r, ids: new Set<string>() };
      entry.ids.add(p.id);
      readers.set(key, entry);
    }
  }
  if (readers.size === 0) return '';
  const lines = [...readers.values()].map(
    ({ move, ids }) => `- ${imageMove(move)} (read directly by ${ids.size} stale ${platforms(ids.size)})`,
  );
  return `### Upstream images that moved\n\n${lines.join('\n')}`;
}

function staleTable(stale: PlatformPlan[]): string {
  const rows = stale.map((p) => `| ${code(p.id)} | ${code(p.dockerfile)} | ${p.reasons.map(reasonText).join('<br>')} |`);
  return ['### Stale platforms', '', '| Platform | Dockerfile | Why |', '| --- | --- | --- |', ...rows].join('\n');
}

function reasonText(r: Reason): string {
  switch (r.kind) {
    case 'from-image-changed':
      return r.oldDigest
        ? `${cell(describeInstruction(r))} in stage ${cell(r.stage || '(syntax)')}: ${imageMove(r)}`
        : cell(r.detail);
    case 'upstream-rebuilt':
      return `upstream rebuilt: ${r.path.map(code).join(' → ')}`;
    default:
      return cell(r.detail);
  }
}

/** `ref`: `sha256:0123456789ab` → `sha256:ba9876543210` */
function imageMove(r: ImageMove): string {
  return `${code(r.ref)}: ${code(shortDigest(r.oldDigest))} → ${code(shortDigest(r.newDigest))}`;
}

/** Inline code inside a table cell: a `|` would end the cell even there. */
function code(text: string): string {
  return `\`${text.replace(/`/g, "'").replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ')}\``;
}

/** Plain text inside a table cell: file names like `__init__.py` must not turn into emphasis or HTML. */
function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/[\\`*_[\]<>|]/g, (c) => `\\${c}`);
}
