/**
 * The HTML report (`imagewright report`): one self-contained page of the graph and the plan's
 * decisions, with search, filters and a list view. Pure but for the page script, which is built
 * (from source) or inlined (in the CLI bundle): see client-script.ts.
 */
import { reportClientScript } from './client-script.js';
import { renderReportHtml } from './html.js';
import { reportModel, type ReportModelOptions } from './model.js';

export { escapeHtml, scriptSafeJson } from './html.js';
export { REPORT_DECISIONS, reportModel, type ReportData, type ReportDecision, type ReportModelOptions, type ReportNode } from './model.js';
export { parseSavedPlan } from './saved-plan.js';

/** The whole page. */
export function renderReport(options: ReportModelOptions): string {
  return renderReportHtml(reportModel(options), reportClientScript());
}
