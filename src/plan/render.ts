/** The plan for people (a table) and for tools (JSON). */
import { sha256Digest } from '../digest.js';
import type { FromImageRecord } from '../imageinfo/types.js';
import type { IndexPlan, MovedTag, Plan, PlatformPlan, PushedEarlier, Reason } from './types.js';

/** What a plan will do: platforms to build and to reuse, shared-tag indexes to publish (create or move). */
export function planCounts(plan: Plan): { build: number; reuse: number; publish: number } {
  const build = plan.platforms.filter((p) => p.decision === 'build').length;
  const publish = plan.indexes.filter((i) => i.action !== 'unchanged').length;
  return { build, reuse: plan.platforms.length - build, publish };
}

/** Whether carrying out the plan changes anything in the registry (what `--exit-code` reports). */
export function planHasWork(plan: Plan): boolean {
  const counts = planCounts(plan);
  return counts.build > 0 || counts.publish > 0 || plan.platforms.some(platformHasWork);
}

/**
 * Whether the run has something to do for this platform: build it, put tags on its image, or record an
 * image an earlier attempt pushed (a leg must write that record, or the image-info never holds it).
 */
export function platformHasWork(p: Pick<PlatformPlan, 'decision' | 'newTags' | 'movedTags' | 'pushedEarlier'>): boolean {
  return p.decision === 'build' || tagsToPut(p).length > 0 || p.pushedEarlier !== undefined;
}

/** The tags a reused platform's image gets without a rebuild: new ones, and moved ones put back. */
export function tagsToPut(p: Pick<PlatformPlan, 'newTags' | 'movedTags'>): string[] {
  return [...p.newTags, ...p.movedTags.map((m) => m.tag)];
}

/** `repo:tag1,tag2`: an index by its shared tags. */
export function indexName(index: Pick<IndexPlan, 'repo' | 'sharedTags'>): string {
  return `${index.repo}:${index.sharedTags.join(',')}`;
}

export function renderPlanText(plan: Plan): string {
  const header = ['DECISION', 'PLATFORM', 'DOCKERFILE', 'WHY'];
  const rows = plan.platforms.map((p) => [p.decision, p.id, p.dockerfile, why(p)]);
  const counts = planCounts(plan);
  const summary = `${counts.build} to build, ${counts.reuse} to reuse, ${counts.publish} shared-tag ${counts.publish === 1 ? 'index' : 'indexes'} to publish`;
  return `${table([header, ...rows])}\n\n${indexTable(plan)}${summary}\n`;
}

/** The indexes to create or move, each with its first reason; nothing when none must be published. */
function indexTable(plan: Plan): string {
  const moving = plan.indexes.filter((i) => i.action !== 'unchanged');
  if (moving.length === 0) return '';
  const rows = moving.map((i) => {
    const [first, ...rest] = i.reasons;
    return [i.action, indexName(i), rest.length ? `${first?.detail ?? ''} (+${rest.length} more)` : first?.detail ?? ''];
  });
  return `${table([['INDEX', 'SHARED TAGS', 'WHY'], ...rows])}\n\n`;
}

/** Columns padded to their widest cell; the last column runs free. */
function table(rows: string[][]): string {
  const columns = (rows[0]?.length ?? 1) - 1;
  const widths = Array.from({ length: columns }, (_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((cells) =>
      cells
        .map((cell, i) => (i < columns ? cell.padEnd(widths[i] ?? 0) : cell))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function why(p: PlatformPlan): string {
  const [first, ...rest] = p.reasons;
  if (!first) {
    const retag = [...(p.newTags.length ? [`adds tags ${p.newTags.join(', ')}`] : []), ...p.movedTags.map((m) => `re-tags: ${m.detail}`)];
    return [p.pushedEarlier ? `pushed earlier: ${p.pushedEarlier.detail}` : 'unchanged', ...retag].join('; ');
  }
  return rest.length ? `${first.detail} (+${rest.length} more)` : first.detail;
}

/** One platform of the plan as JSON: what `plan --format json` prints and `report --plan` reads back. */
export interface PlanJsonPlatform {
  id: string;
  dockerfile: string;
  tags: string[];
  decision: PlatformPlan['decision'];
  reasons: Reason[];
  buildKey: string;
  fromImages: FromImageRecord[];
  inputs: KeyedInputs;
  newTags: string[];
  /** Absent in plans saved before moved tags were checked. */
  movedTags?: MovedTag[];
  /** A reuse of an image an earlier attempt of this CI leg pushed (PlatformPlan.pushedEarlier). */
  pushedEarlier?: PushedEarlier;
}

/** The inputs the build key covers besides the reads (`fromImages`); build arg values as digests (values may be secrets). */
export interface KeyedInputs {
  dockerfile: string;
  context: string;
  platform: string;
  buildArgs: Record<string, string>;
}

export interface PlanJson {
  platforms: PlanJsonPlatform[];
  indexes: IndexPlan[];
  /** How many requests the planning made (one per recorded image checked, plus reads). */
  registryRequests?: number;
}

/** The plan as tools read it (`plan --format json`). */
export function planJson(plan: Plan, registryRequests?: number): PlanJson {
  const platforms = plan.platforms.map((p) => ({
    id: p.id,
    dockerfile: p.dockerfile,
    tags: p.tags,
    decision: p.decision,
    reasons: p.reasons,
    buildKey: p.buildKey,
    fromImages: p.fromImages,
    inputs: keyedInputs(p),
    newTags: p.newTags,
    movedTags: p.movedTags,
    ...(p.pushedEarlier ? { pushedEarlier: p.pushedEarlier } : {}),
  }));
  return { platforms, indexes: plan.indexes, ...(registryRequests !== undefined && { registryRequests }) };
}

/** The plan as JSON; `registryRequests`, when given, is how many requests the planning made. */
export function renderPlanJson(plan: Plan, registryRequests?: number): string {
  return `${JSON.stringify(planJson(plan, registryRequests), null, 2)}\n`;
}

function keyedInputs(p: PlatformPlan): KeyedInputs {
  const buildArgs = Object.fromEntries(Object.entries(p.inputs.buildArgs).map(([name, value]) => [name, sha256Digest(value)]));
  return { dockerfile: p.inputs.dockerfile, context: p.inputs.context, platform: p.inputs.platform, buildArgs };
}
