/**
 * The report as one self-contained HTML page: styles, the page's script (with its layout library)
 * and the data inline. A Content-Security-Policy forbids every request, so the page works offline
 * and a hostile name in the manifest can neither load nor send anything.
 */
import type { ReportData } from './model.js';

/** HTML text and attribute values: the five characters HTML gives meaning to. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * JSON that can sit inside a <script> element: `<` and `>` cannot close it or open a comment, `&`
 * cannot start an entity, and U+2028/U+2029 (line terminators in old JavaScript) are escaped too.
 */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A script's text inside <script>: only `</script` could end it early (the bundled library is trusted code). */
function inlineScript(code: string): string {
  return code.replace(/<\/(script)/gi, '<\\/$1');
}

export function renderReportHtml(data: ReportData, clientScript: string): string {
  const title = escapeHtml(data.title);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>${title}</h1>
  <div id="counts" aria-live="polite"></div>
</header>
<nav id="toolbar">
  <input id="search" type="search" placeholder="Search platforms, tags, Dockerfiles" aria-label="Search">
  <label>Repo <select id="filter-repo"></select></label>
  <label>OS <select id="filter-os"></select></label>
  <label>Architecture <select id="filter-arch"></select></label>
  <span id="filter-decisions" role="group" aria-label="Decisions"></span>
  <label>Colour <select id="colour-by">
    <option value="decision">by decision</option><option value="architecture">by architecture</option><option value="os">by OS</option><option value="repo">by repo</option>
  </select></label>
  <span id="legend"></span>
  <span class="views" role="group" aria-label="View">
    <button id="view-graph" type="button">Graph</button>
    <button id="view-list" type="button">List</button>
    <button id="fit" type="button" title="Fit the graph to the window">Fit</button>
  </span>
</nav>
<main>
  <section id="canvas">
    <div id="graph-note" hidden></div>
    <svg id="graph" role="img" aria-label="Dependency graph"></svg>
    <div id="list" hidden></div>
  </section>
  <aside id="details"><p class="hint">Click a platform to see why it builds, what it reads and what depends on it.</p></aside>
</main>
<script type="application/json" id="report-data">${scriptSafeJson(data)}</script>
<script>${inlineScript(clientScript)}</script>
</body>
</html>
`;
}

const STYLE = `
:root { --build: #d9534f; --retag: #f0ad4e; --reuse: #5cb85c; --unplanned: #8a94a6; --line: #c8ccd4; --ink: #1d2330; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); display: flex; flex-direction: column; height: 100vh; }
header { display: flex; align-items: baseline; gap: 16px; padding: 8px 12px; border-bottom: 1px solid var(--line); }
h1 { font-size: 16px; margin: 0; }
#counts span { margin-right: 12px; }
#toolbar { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: center; padding: 6px 12px; border-bottom: 1px solid var(--line); background: #f7f8fa; }
#search { width: 260px; padding: 3px 6px; }
#filter-decisions label { margin-right: 8px; white-space: nowrap; }
#legend .chip { margin-right: 4px; }
.views button { padding: 2px 10px; }
.views button[aria-pressed="true"] { font-weight: bold; background: #dde3ee; }
main { flex: 1; display: flex; min-height: 0; }
#canvas { flex: 1; position: relative; overflow: hidden; }
#graph { width: 100%; height: 100%; cursor: grab; user-select: none; }
#graph-note { position: absolute; top: 8px; left: 12px; right: 12px; padding: 6px 10px; background: #fff8e1; border: 1px solid #f0d68a; z-index: 1; }
#list { position: absolute; inset: 0; overflow: auto; }
#list table { border-collapse: collapse; width: 100%; }
#list th, #list td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #eef0f3; white-space: nowrap; }
#list td.why { white-space: normal; }
#list tr.row { cursor: pointer; }
#list tr.row:hover { background: #f3f6fb; }
#list tr.selected { background: #e3ecfa; }
#list .more { margin: 8px; }
#details { width: 380px; overflow: auto; border-left: 1px solid var(--line); padding: 8px 12px; }
#details h2 { font-size: 14px; margin: 4px 0 8px; word-break: break-all; }
#details h3 { font-size: 12px; margin: 12px 0 4px; text-transform: uppercase; color: #5a6272; }
#details ul { margin: 0; padding-left: 18px; }
#details li { word-break: break-all; }
#details .hint { color: #5a6272; }
#details a { color: #2557a7; cursor: pointer; }
.chip { display: inline-block; padding: 0 6px; border-radius: 8px; color: #fff; font-size: 11px; }
.chip.build, .node.build rect { background: var(--build); fill: var(--build); }
.chip.retag, .node.retag rect { background: var(--retag); fill: var(--retag); }
.chip.reuse, .node.reuse rect { background: var(--reuse); fill: var(--reuse); }
.chip.unplanned, .node.unplanned rect { background: var(--unplanned); fill: var(--unplanned); }
.node { cursor: pointer; }
.node rect { stroke: #fff; stroke-width: 1; rx: 3; }
.node text { fill: #fff; font-size: 11px; pointer-events: none; }
.node.match rect { stroke: #1d2330; stroke-width: 2.5; }
.edge { fill: none; stroke: #9aa3b2; stroke-width: 1; }
.focus .node, .focus .edge { opacity: 0.15; }
.focus .node.selected, .focus .node.upstream, .focus .node.downstream, .focus .edge.upstream, .focus .edge.downstream { opacity: 1; }
.node.selected rect { stroke: #1d2330; stroke-width: 3; }
.node.upstream rect { stroke: #2557a7; stroke-width: 2.5; }
.node.downstream rect { stroke: #7b3fa0; stroke-width: 2.5; }
.edge.upstream { stroke: #2557a7; stroke-width: 2; }
.edge.downstream { stroke: #7b3fa0; stroke-width: 2; }
.node.on-path rect { stroke: #000; stroke-dasharray: 4 2; stroke-width: 3; }
`;
