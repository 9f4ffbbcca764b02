/** The plan for people (a table) and for tools (JSON). */
import type { Plan, PlatformPlan } from './types.js';

export function renderPlanText(plan: Plan): string {
  const header = ['DECISION', 'PLATFORM', 'DOCKERFILE', 'WHY'];
  const rows = plan.platforms.map((p) => [p.decision, p.id, p.dockerfile, why(p)]);
  const widths = header.slice(0, -1).map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => (i < widths.length ? cell.padEnd(widths[i] ?? 0) : cell))
      .join('  ')
      .trimEnd();
  const toBuild = plan.platforms.filter((p) => p.decision === 'build').length;
  const summary = `${toBuild} to build, ${plan.platforms.length - toBuild} to reuse`;
  return `${[line(header), ...rows.map(line)].join('\n')}\n\n${summary}\n`;
}

function why(p: PlatformPlan): string {
  const [first, ...rest] = p.reasons;
  if (!first) return p.newTags.length ? `unchanged; adds tags ${p.newTags.join(', ')}` : 'unchanged';
  return rest.length ? `${first.detail} (+${rest.length} more)` : first.detail;
}

export function renderPlanJson(plan: Plan): string {
  const platforms = plan.platforms.map((p) => ({
    id: p.id,
    dockerfile: p.dockerfile,
    tags: p.tags,
    decision: p.decision,
    reasons: p.reasons,
    buildKey: p.buildKey,
    fromImages: p.fromImages,
    newTags: p.newTags,
  }));
  return `${JSON.stringify({ platforms }, null, 2)}\n`;
}
