/**
 * The report page's script (runs in the browser; bundled with dagre into the page by client-script.ts).
 * Every text from the data enters the page as a text node or an attribute value, never as HTML.
 *
 * Large graphs: the graph view lays out only the platforms the search and filters leave, and at most
 * GRAPH_LIMIT of them; above that the page opens in the list view, which renders rows a page at a time.
 */
import { graphlib, layout, type EdgeLabel, type GraphLabel, type NodeLabel } from '@dagrejs/dagre';
import type { ReportData, ReportDecision, ReportNode } from '../model.js';

const GRAPH_LIMIT = 600;
const LIST_PAGE = 300;
const RELATED_SHOWN = 200;
const NODE_HEIGHT = 22;
const SVG = 'http://www.w3.org/2000/svg';
/** Colours for `Colour by` other than decision, in order of the sorted values (repeating past ten). */
const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#e15759', '#76b7b2', '#9c755f', '#edc948', '#ff9da7', '#bab0ac'];
const DECISION_LABELS: Record<ReportDecision, string> = { build: 'build', retag: 'retag (reuse, new tags)', reuse: 'reuse', unplanned: 'not planned' };

const data = JSON.parse(document.getElementById('report-data')?.textContent ?? '{}') as ReportData;
const nodes = data.nodes;
const ups: number[][] = nodes.map(() => []);
const downs: number[][] = nodes.map(() => []);
for (const [from, to] of data.edges) {
  ups[to]?.push(from);
  downs[from]?.push(to);
}
const haystacks = nodes.map((n) => [n.id, ...n.tags, n.dockerfile].join('\n').toLowerCase());
const byId = new Map(nodes.map((n, i) => [n.id, i]));

const element = <T extends HTMLElement>(id: string): T => {
  const found = document.getElementById(id);
  if (!found) throw new Error(`report page: no #${id}`);
  return found as T;
};
const searchBox = element<HTMLInputElement>('search');
const repoSelect = element<HTMLSelectElement>('filter-repo');
const osSelect = element<HTMLSelectElement>('filter-os');
const archSelect = element<HTMLSelectElement>('filter-arch');
const decisionBox = element('filter-decisions');
const svg = document.getElementById('graph') as unknown as SVGSVGElement;
const list = element('list');
const note = element('graph-note');
const details = element('details');
const counts = element('counts');
const graphButton = element<HTMLButtonElement>('view-graph');
const listButton = element<HTMLButtonElement>('view-list');
const fitButton = element<HTMLButtonElement>('fit');
const colourSelect = element<HTMLSelectElement>('colour-by');
const legend = element('legend');

const state = {
  view: (nodes.length > GRAPH_LIMIT ? 'list' : 'graph') as 'graph' | 'list',
  selected: undefined as number | undefined,
  decisions: new Set<ReportDecision>(nodes.map((n) => n.decision)),
  listShown: LIST_PAGE,
};

/** Elements drawn for the current view, by node index (graph nodes or list rows). */
let drawnNodes = new Map<number, Element>();
let drawnEdges: Array<{ from: number; to: number; path: SVGPathElement }> = [];
let contentBox = { x: 0, y: 0, width: 1, height: 1 };
let viewBox = { x: 0, y: 0, width: 1, height: 1 };

function make<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (text !== undefined) el.textContent = text;
  if (className) el.className = className;
  return el;
}

function fillSelect(select: HTMLSelectElement, values: string[]): void {
  select.append(new Option('all', ''));
  for (const value of [...new Set(values)].sort()) select.append(new Option(value, value));
  select.addEventListener('change', refresh);
}

function setUpControls(): void {
  fillSelect(repoSelect, nodes.map((n) => n.repo));
  fillSelect(osSelect, nodes.map((n) => n.os));
  fillSelect(archSelect, nodes.map((n) => n.architecture));
  for (const decision of ['build', 'retag', 'reuse', 'unplanned'] as const) {
    const count = nodes.filter((n) => n.decision === decision).length;
    if (count === 0) continue;
    const box = make('input');
    box.type = 'checkbox';
    box.id = `decision-${decision}`;
    box.checked = true;
    box.addEventListener('change', () => {
      if (box.checked) state.decisions.add(decision);
      else state.decisions.delete(decision);
      refresh();
    });
    const label = make('label');
    label.append(box, ' ', make('span', DECISION_LABELS[decision], `chip ${decision}`), ` ${count}`);
    decisionBox.append(label);
  }
  let pending: number | undefined;
  searchBox.addEventListener('input', () => {
    window.clearTimeout(pending);
    pending = window.setTimeout(refresh, 120);
  });
  searchBox.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter') return;
    window.clearTimeout(pending);
    refresh();
    const first = visibleNodes()[0];
    if (first !== undefined) select(first);
  });
  graphButton.addEventListener('click', () => setView('graph'));
  listButton.addEventListener('click', () => setView('list'));
  fitButton.addEventListener('click', fit);
  colourSelect.addEventListener('change', recolour);
  setUpPanZoom();
}

function visibleNodes(): number[] {
  const text = searchBox.value.trim().toLowerCase();
  const shown: number[] = [];
  nodes.forEach((n, i) => {
    if (!state.decisions.has(n.decision)) return;
    if (repoSelect.value && n.repo !== repoSelect.value) return;
    if (osSelect.value && n.os !== osSelect.value) return;
    if (archSelect.value && n.architecture !== archSelect.value) return;
    if (text && !haystacks[i]?.includes(text)) return;
    shown.push(i);
  });
  return shown;
}

function setView(view: 'graph' | 'list'): void {
  state.view = view;
  refresh();
}

function refresh(): void {
  const shown = visibleNodes();
  graphButton.setAttribute('aria-pressed', String(state.view === 'graph'));
  listButton.setAttribute('aria-pressed', String(state.view === 'list'));
  fitButton.disabled = state.view !== 'graph';
  renderCounts(shown.length);
  svg.style.display = state.view === 'graph' ? '' : 'none';
  list.hidden = state.view !== 'list';
  note.hidden = true;
  state.listShown = LIST_PAGE;
  if (state.view === 'graph') drawGraph(shown);
  else drawList(shown);
  highlight();
}

function renderCounts(shown: number): void {
  counts.replaceChildren();
  const total = nodes.length;
  const by = (d: ReportDecision): number => nodes.filter((n) => n.decision === d).length;
  const parts = [`${total} platforms`];
  if (data.source === 'graph') parts.push('graph only: no plan, no decisions');
  else parts.push(`${by('build')} to build`, `${by('retag')} to retag`, `${by('reuse')} to reuse`);
  if (data.indexes.length) parts.push(`${data.indexes.length} shared-tag indexes to publish`);
  parts.push(`showing ${shown}`);
  for (const part of parts) counts.append(make('span', part));
}

// ---- colours ----------------------------------------------------------------------------------------

type ColourBy = 'decision' | 'architecture' | 'os' | 'repo';

/** The fill of node `i` when colouring by something other than its decision (undefined: by decision, in CSS). */
function fillOf(i: number): string | undefined {
  const by = colourSelect.value as ColourBy;
  if (by === 'decision') return undefined;
  const values = [...new Set(nodes.map((n) => n[by]))].sort();
  return PALETTE[values.indexOf((nodes[i] as ReportNode)[by]) % PALETTE.length];
}

function recolour(): void {
  const by = colourSelect.value as ColourBy;
  legend.replaceChildren();
  if (by !== 'decision') {
    const values = [...new Set(nodes.map((n) => n[by]))].sort();
    values.forEach((value, k) => {
      const chip = make('span', value, 'chip');
      chip.style.background = PALETTE[k % PALETTE.length] ?? '';
      legend.append(chip);
    });
  }
  if (state.view !== 'graph') return;
  for (const [i, el] of drawnNodes) {
    const rect = el.querySelector('rect');
    if (rect) rect.style.fill = fillOf(i) ?? '';
  }
}

// ---- graph view ----------------------------------------------------------------------------------

function label(n: ReportNode): string {
  return n.tags[0] ?? n.id.slice(n.id.lastIndexOf(':') + 1);
}

function nodeWidth(text: string): number {
  return Math.min(260, 16 + text.length * 6.3);
}

interface Placed {
  x: number;
  y: number;
  width: number;
}

interface Block {
  width: number;
  height: number;
  nodes: Map<number, Placed>;
  edges: Array<{ from: number; to: number; points: Array<{ x: number; y: number }> }>;
}

/** Connected parts of the shown subgraph, each laid out by dagre, then packed in rows. */
function layoutBlocks(shown: number[]): Block[] {
  const inShown = new Set(shown);
  const parent = new Map(shown.map((i) => [i, i]));
  const root = (i: number): number => {
    let r = i;
    while (parent.get(r) !== r) r = parent.get(r) ?? r;
    parent.set(i, r);
    return r;
  };
  const edges = data.edges.filter(([a, b]) => inShown.has(a) && inShown.has(b));
  for (const [a, b] of edges) parent.set(root(a), root(b));
  const parts = new Map<number, number[]>();
  for (const i of shown) parts.set(root(i), [...(parts.get(root(i)) ?? []), i]);
  const blocks: Block[] = [];
  for (const members of parts.values()) {
    if (members.length === 1) {
      const i = members[0] as number;
      const width = nodeWidth(label(nodes[i] as ReportNode));
      blocks.push({ width, height: NODE_HEIGHT, nodes: new Map([[i, { x: width / 2, y: NODE_HEIGHT / 2, width }]]), edges: [] });
      continue;
    }
    const g = new graphlib.Graph<GraphLabel, NodeLabel, EdgeLabel>();
    g.setGraph({ rankdir: 'LR', nodesep: 6, ranksep: 36, marginx: 0, marginy: 0 });
    g.setDefaultEdgeLabel(() => ({}));
    const set = new Set(members);
    for (const i of members) g.setNode(String(i), { width: nodeWidth(label(nodes[i] as ReportNode)), height: NODE_HEIGHT });
    for (const [a, b] of edges) if (set.has(a)) g.setEdge(String(a), String(b));
    layout(g);
    const graphLabel = g.graph();
    const placed = new Map<number, Placed>();
    for (const i of members) {
      const n = g.node(String(i));
      placed.set(i, { x: n.x ?? 0, y: n.y ?? 0, width: n.width });
    }
    const blockEdges = g.edges().map((e: { v: string; w: string }) => ({ from: Number(e.v), to: Number(e.w), points: g.edge(e).points ?? [] }));
    blocks.push({ width: graphLabel.width ?? 0, height: graphLabel.height ?? 0, nodes: placed, edges: blockEdges });
  }
  return blocks;
}

function drawGraph(shown: number[]): void {
  svg.replaceChildren();
  drawnNodes = new Map();
  drawnEdges = [];
  if (shown.length > GRAPH_LIMIT) {
    note.hidden = false;
    note.textContent = `${shown.length} platforms match: the graph draws at most ${GRAPH_LIMIT}. Narrow the search or the filters, or use the list.`;
    return;
  }
  const blocks = layoutBlocks(shown).sort((a, b) => b.height - a.height || b.width - a.width);
  // Rows about as wide as the whole is tall (a screen's shape), the widest part setting the minimum.
  const gap = 24;
  const area = blocks.reduce((sum, b) => sum + (b.width + gap) * (b.height + gap), 0);
  const rowWidth = Math.max(Math.sqrt(area * 1.8), ...blocks.map((b) => b.width));
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  let width = 0;
  const edgeLayer = document.createElementNS(SVG, 'g');
  const nodeLayer = document.createElementNS(SVG, 'g');
  svg.append(edgeLayer, nodeLayer);
  for (const block of blocks) {
    if (x > 0 && x + block.width > rowWidth) {
      x = 0;
      y += rowHeight + gap;
      rowHeight = 0;
    }
    for (const e of block.edges) {
      const path = document.createElementNS(SVG, 'path');
      path.setAttribute('class', 'edge');
      path.setAttribute('d', e.points.map((p, k) => `${k === 0 ? 'M' : 'L'}${(p.x + x).toFixed(1)},${(p.y + y).toFixed(1)}`).join(' '));
      path.setAttribute('marker-end', 'url(#arrow)');
      edgeLayer.append(path);
      drawnEdges.push({ from: e.from, to: e.to, path });
    }
    for (const [i, p] of block.nodes) nodeLayer.append(drawNode(i, p.x + x, p.y + y, p.width));
    x += block.width + gap;
    width = Math.max(width, x);
    rowHeight = Math.max(rowHeight, block.height);
  }
  svg.prepend(arrowMarker());
  contentBox = { x: -gap, y: -gap, width: width + gap, height: y + rowHeight + 2 * gap };
  fit();
}

function arrowMarker(): SVGDefsElement {
  const defs = document.createElementNS(SVG, 'defs');
  const marker = document.createElementNS(SVG, 'marker');
  for (const [k, v] of Object.entries({ id: 'arrow', viewBox: '0 0 10 10', refX: '10', refY: '5', markerWidth: '6', markerHeight: '6', orient: 'auto' })) marker.setAttribute(k, v);
  const tip = document.createElementNS(SVG, 'path');
  tip.setAttribute('d', 'M0,0 L10,5 L0,10 z');
  tip.setAttribute('fill', '#9aa3b2');
  marker.append(tip);
  defs.append(marker);
  return defs;
}

function drawNode(i: number, cx: number, cy: number, width: number): SVGGElement {
  const n = nodes[i] as ReportNode;
  const g = document.createElementNS(SVG, 'g');
  g.setAttribute('class', `node ${n.decision}`);
  g.dataset.id = n.id;
  g.setAttribute('transform', `translate(${(cx - width / 2).toFixed(1)},${(cy - NODE_HEIGHT / 2).toFixed(1)})`);
  const rect = document.createElementNS(SVG, 'rect');
  rect.setAttribute('width', String(width));
  rect.setAttribute('height', String(NODE_HEIGHT));
  const fill = fillOf(i);
  if (fill) rect.style.fill = fill;
  const text = document.createElementNS(SVG, 'text');
  text.setAttribute('x', '8');
  text.setAttribute('y', '15');
  const shown = label(n);
  const room = Math.floor((width - 16) / 6.3);
  text.textContent = shown.length > room ? `${shown.slice(0, room - 1)}…` : shown;
  const title = document.createElementNS(SVG, 'title');
  title.textContent = `${n.id} (${n.os}/${n.architecture}): ${DECISION_LABELS[n.decision]}`;
  g.append(title, rect, text);
  g.addEventListener('click', () => {
    if (!dragged) select(i);
  });
  drawnNodes.set(i, g);
  return g;
}

function applyViewBox(): void {
  svg.setAttribute('viewBox', `${viewBox.x} ${viewBox.y} ${viewBox.width} ${viewBox.height}`);
}

function fit(): void {
  viewBox = { ...contentBox };
  applyViewBox();
}

let dragged = false;

function setUpPanZoom(): void {
  let start: { x: number; y: number; box: typeof viewBox } | undefined;
  const scale = (): number => viewBox.width / Math.max(1, svg.clientWidth);
  svg.addEventListener('mousedown', (event) => {
    start = { x: event.clientX, y: event.clientY, box: { ...viewBox } };
    dragged = false;
  });
  window.addEventListener('mousemove', (event) => {
    if (!start) return;
    const dx = event.clientX - start.x;
    const dy = event.clientY - start.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) dragged = true;
    if (!dragged) return;
    const k = Math.max(scale(), viewBox.height / Math.max(1, svg.clientHeight));
    viewBox = { ...start.box, x: start.box.x - dx * k, y: start.box.y - dy * k };
    applyViewBox();
  });
  window.addEventListener('mouseup', () => {
    start = undefined;
  });
  svg.addEventListener(
    'wheel',
    (event) => {
      event.preventDefault();
      const factor = Math.exp(event.deltaY * 0.0015);
      const rect = svg.getBoundingClientRect();
      const fx = (event.clientX - rect.left) / Math.max(1, rect.width);
      const fy = (event.clientY - rect.top) / Math.max(1, rect.height);
      const width = viewBox.width * factor;
      const height = viewBox.height * factor;
      viewBox = { x: viewBox.x + (viewBox.width - width) * fx, y: viewBox.y + (viewBox.height - height) * fy, width, height };
      applyViewBox();
    },
    { passive: false },
  );
}

// ---- list view -----------------------------------------------------------------------------------

function drawList(shown: number[]): void {
  drawnNodes = new Map();
  drawnEdges = [];
  const table = make('table');
  const head = make('tr');
  for (const h of ['Decision', 'Platform', 'OS', 'Architecture', 'Why']) head.append(make('th', h));
  table.append(head);
  const rows = shown.slice(0, state.listShown);
  for (const i of rows) {
    const n = nodes[i] as ReportNode;
    const row = make('tr', undefined, 'row');
    row.dataset.id = n.id;
    const chip = make('td');
    chip.append(make('span', n.decision, `chip ${n.decision}`));
    row.append(chip, make('td', n.id), make('td', n.osVersion ? `${n.os} (${n.osVersion})` : n.os), make('td', n.architecture), make('td', why(n), 'why'));
    row.addEventListener('click', () => select(i));
    table.append(row);
    drawnNodes.set(i, row);
  }
  list.replaceChildren(table);
  if (shown.length > rows.length) {
    const more = make('button', `Show ${Math.min(LIST_PAGE, shown.length - rows.length)} more of ${shown.length - rows.length}`, 'more');
    more.type = 'button';
    more.addEventListener('click', () => {
      state.listShown += LIST_PAGE;
      drawList(shown);
      highlight();
    });
    list.append(more);
  }
  if (shown.length === 0) list.append(make('p', 'No platform matches the search and filters.', 'more'));
}

function why(n: ReportNode): string {
  if (n.reasons.length) return n.reasons.length > 1 ? `${n.reasons[0]} (+${n.reasons.length - 1} more)` : (n.reasons[0] ?? '');
  if (n.decision === 'unplanned') return 'not planned';
  return n.newTags.length ? `unchanged; adds tags ${n.newTags.join(', ')}` : 'unchanged';
}

// ---- selection -----------------------------------------------------------------------------------

function closure(start: number, next: number[][]): Set<number> {
  const seen = new Set<number>();
  const queue = [...(next[start] ?? [])];
  while (queue.length) {
    const i = queue.pop() as number;
    if (seen.has(i)) continue;
    seen.add(i);
    queue.push(...(next[i] ?? []));
  }
  return seen;
}

function select(i: number): void {
  state.selected = i;
  highlight();
  showDetails(i);
}

function highlight(): void {
  const i = state.selected;
  const up = i === undefined ? new Set<number>() : closure(i, ups);
  const down = i === undefined ? new Set<number>() : closure(i, downs);
  const path = new Set(i === undefined ? [] : ((nodes[i]?.changePath ?? []).map((id) => byId.get(id)).filter((k) => k !== undefined) as number[]));
  svg.classList.toggle('focus', i !== undefined && drawnNodes.has(i));
  for (const [k, el] of drawnNodes) {
    el.classList.toggle('selected', k === i);
    el.classList.toggle('upstream', up.has(k));
    el.classList.toggle('downstream', down.has(k));
    el.classList.toggle('on-path', path.has(k) && k !== i);
  }
  for (const e of drawnEdges) {
    e.path.classList.toggle('upstream', up.has(e.from) && (e.to === i || up.has(e.to)));
    e.path.classList.toggle('downstream', down.has(e.to) && (e.from === i || down.has(e.from)));
  }
}

function link(id: string): HTMLElement {
  const k = byId.get(id);
  if (k === undefined) return make('span', id);
  const a = make('a', id);
  a.tabIndex = 0;
  a.addEventListener('click', () => select(k));
  return a;
}

function section(title: string, items: Array<string | Node>, empty?: string): void {
  if (!items.length && empty === undefined) return;
  details.append(make('h3', title));
  if (!items.length) {
    details.append(make('p', empty));
    return;
  }
  const ul = make('ul');
  for (const item of items) {
    const li = make('li');
    li.append(item);
    ul.append(li);
  }
  details.append(ul);
}

function related(set: Set<number>): Array<string | Node> {
  const ids = [...set].sort((a, b) => a - b).map((k) => nodes[k]?.id ?? '');
  const shown: Array<string | Node> = ids.slice(0, RELATED_SHOWN).map(link);
  if (ids.length > RELATED_SHOWN) shown.push(`… and ${ids.length - RELATED_SHOWN} more`);
  return shown;
}

function showDetails(i: number): void {
  const n = nodes[i] as ReportNode;
  details.replaceChildren();
  details.append(make('h2', n.id), make('span', DECISION_LABELS[n.decision], `chip ${n.decision}`));
  section('Platform', [
    `${n.os}${n.osVersion ? ` (${n.osVersion})` : ''}, ${n.architecture}`,
    `Dockerfile: ${n.dockerfile}`,
    `tags: ${n.tags.join(', ') || '(none of its own)'}`,
  ]);
  const reasons = n.reasons.length ? n.reasons : [why(n)];
  details.append(make('h3', 'Why'));
  const whyList = make('ul', undefined, 'reasons');
  for (const r of reasons) whyList.append(make('li', r));
  details.append(whyList);
  if (n.changePath.length) section('Path to the change', n.changePath.map(link));
  section('Inputs (what the build key covers)', n.inputs.map(([k, v]) => `${k}: ${v}`), data.source === 'graph' ? 'not planned: run the report with a plan to see them' : undefined);
  section('Reads', n.reads, 'no images');
  section(`Upstream (${closure(i, ups).size})`, related(closure(i, ups)), 'none built here');
  section(`Downstream (${closure(i, downs).size})`, related(closure(i, downs)), 'nothing built here reads it');
}

function showIndexes(): void {
  if (!data.indexes.length) return;
  section(
    'Shared-tag indexes to publish',
    data.indexes.map((x) => `${x.action} ${x.name}: ${x.reasons.join('; ')}`),
  );
}

setUpControls();
// Without decisions every platform would be grey: a graph-only report opens coloured by architecture.
if (data.source === 'graph') colourSelect.value = 'architecture';
recolour();
showIndexes();
refresh();
