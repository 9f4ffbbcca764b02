/**
 * What `imagewright report` draws, gathered: the graph from the files, and the decisions from a plan
 * made now (as `plan` makes it), from a plan saved with `plan --format json`, or none (graph only,
 * for a repository whose registries cannot be reached).
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../errors.js';
import { displayPath } from '../paths.js';
import { planJson } from '../plan/index.js';
import { parseSavedPlan, renderReport } from '../report/index.js';
import { loadRepository, planRepository, type LoadOptions, type PlanOptions } from './plan.js';

/** A saved plan of 5,000 platforms is about 15 MB; a larger file is refused before it is read. */
export const SAVED_PLAN_MAX_BYTES = 64 * 1024 * 1024;

export type ReportDecisions =
  | { from: 'plan'; plan: Omit<PlanOptions, keyof LoadOptions> }
  | { from: 'saved-plan'; file: string }
  | { from: 'graph' };

/** The report page's HTML. */
export async function reportPage(load: LoadOptions, decisions: ReportDecisions): Promise<string> {
  const title = `imagewright report: ${path.basename(path.dirname(path.resolve(load.manifestFile)))}/${path.basename(load.manifestFile)}`;
  if (decisions.from === 'plan') {
    const planned = await planRepository({ ...load, ...decisions.plan });
    return renderReport({ title, graph: planned.graph, plan: planJson(planned.plan), source: 'plan' });
  }
  const [{ graph }, plan] = await Promise.all([
    loadRepository({ ...load, skipContexts: true }),
    decisions.from === 'saved-plan' ? readSavedPlan(decisions.file) : undefined,
  ]);
  return renderReport({ title, graph, plan, source: decisions.from });
}

async function readSavedPlan(file: string): Promise<ReturnType<typeof parseSavedPlan>> {
  const shown = displayPath(path.resolve(file));
  const info = await stat(file).catch(() => undefined);
  if (!info) throw new InputError(shown, undefined, 'saved plan does not exist');
  // A FIFO or a device would be read without end: only regular files, of a bounded size.
  if (!info.isFile()) throw new InputError(shown, undefined, 'saved plan is not a regular file');
  if (info.size > SAVED_PLAN_MAX_BYTES) throw new InputError(shown, undefined, `saved plan is larger than ${SAVED_PLAN_MAX_BYTES} bytes`);
  return parseSavedPlan(await readFile(file, 'utf8'), shown);
}
