/**
 * The plan as a GitHub Actions step summary (Markdown) and step outputs. A scheduled stale check
 * reads it to learn what is stale and why, above all which upstream image moved to which digest.
 */
import { shortDigest } from '../digest.js';
import { describeInstruction } from './explain.js';
import { indexName, planCounts, planHasWork } from './render.js';
import type { Plan, PlatformPlan, Reason } from './types.js';

type ImageMove = Extract<Reason, { kind: 'from-image-changed' }>;

export function renderPlanGithub(plan: Plan): string {
  const stale = plan.platforms.filter((p) => p.decision === 'build');
  const total = plan.platforms.length;
  const { publish } = planCounts(plan);
  const publishing = publish > 0 ? ` **${publish} shared-tag ${indexes(publish)} to publish.**` : '';
  if (stale.length === 0 && publish === 0) {
    return `## imagewright plan: up to date\n\nAll ${total} ${platforms(total)} can be reused; nothing to build.${addedTags(plan)}\n`;
  }
  const sections = [
    stale.length > 0
      ? `## imagewright plan: ${stale.length} of ${total} ${platforms(total)} stale`
      : `## imagewright plan: ${publish} shared-tag ${indexes(publish)} to publish`,
    `**${stale.length} to build**, ${total - stale.length} to reuse.${publishing}${addedTags(plan)}`,
    movedImages(stale),
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
