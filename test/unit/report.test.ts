/**
 * The HTML report's data and page, without a browser (test/integration/report-browser.test.ts drives
 * the page in Chromium): decisions as colours, the path to the change, inputs, hostile text kept inert,
 * and saved plans read back with the wrong field named.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planJson } from '../../src/plan/index.js';
import { escapeHtml, parseSavedPlan, renderReport, reportModel, scriptSafeJson, type ReportData } from '../../src/report/index.js';
import { InputError } from '../../src/errors.js';
import { analysis, fromOnly, makeManifest, REGISTRY, World } from '../helpers/plan-fixtures.js';

/** r:a FROM debian; r:b FROM r:a; r:c FROM r:b; r:d FROM debian (independent). */
function world(): World {
  const manifest = makeManifest([
    {
      name: 'r',
      images: [
        { platforms: [{ dockerfile: 'src/a', tags: ['a'] }] },
        { platforms: [{ dockerfile: 'src/b', tags: ['b'] }] },
        { platforms: [{ dockerfile: 'src/c', tags: ['c'], architecture: 'arm', variant: 'v7' }] },
        { platforms: [{ dockerfile: 'src/d', tags: ['d'], os: 'windows', osVersion: 'ltsc2022' }] },
      ],
    },
  ]);
  return World.of(manifest, {
    'r:a': fromOnly('debian:12'),
    'r:b': analysis([{ from: `${REGISTRY}/r:a` }]),
    'r:c': analysis([{ from: `${REGISTRY}/r:b` }]),
    'r:d': fromOnly('debian:12'),
  });
}

/** r:a's Dockerfile changed (a, b, c build), r:d gained a tag (reused, retagged). */
function changed(): ReportData {
  const w = world();
  const info = w.baseline();
  w.changeDockerfile('r:a');
  const d = w.manifest.repos[0]?.images[3]?.platforms[0];
  d?.tags.push('d-latest');
  return reportModel({ title: 't', graph: w.graph(), plan: planJson(w.plan(info)), source: 'plan' });
}

function node(data: ReportData, id: string): ReportData['nodes'][number] {
  const found = data.nodes.find((n) => n.id === id);
  assert.ok(found, `no node ${id}`);
  return found;
}

/** The JSON a page embeds, read back as the page's script reads it. */
function embedded(html: string): unknown {
  const match = /<script type="application\/json" id="report-data">([^]*?)<\/script>/.exec(html);
  assert.ok(match?.[1], 'the page embeds its data');
  return JSON.parse(match[1]);
}

describe('report: model', () => {
  it('colours by decision: build, retag (reuse with new tags), reuse; a graph-only report has no decisions', () => {
    const data = changed();
    assert.deepEqual(Object.fromEntries(data.nodes.map((n) => [n.id, n.decision])), { 'r:a': 'build', 'r:b': 'build', 'r:c': 'build', 'r:d': 'retag' });
    assert.deepEqual(node(data, 'r:d').newTags, ['d-latest']);
    const graphOnly = reportModel({ title: 't', graph: world().graph(), source: 'graph' });
    assert.ok(graphOnly.nodes.every((n) => n.decision === 'unplanned' && n.reasons.length === 0 && n.inputs.length === 0));
    assert.deepEqual(node(graphOnly, 'r:c').reads, [`FROM ${REGISTRY}/r:b (built here)`]);
  });

  it('a platform that builds because of its upstream carries the path from the change to it', () => {
    const data = changed();
    assert.deepEqual(node(data, 'r:c').changePath, ['r:a', 'r:b', 'r:c']);
    assert.deepEqual(node(data, 'r:a').changePath, [], 'r:a changed itself');
    assert.match(node(data, 'r:a').reasons.join('\n'), /Dockerfile/);
  });

  it('nodes carry platform, inputs and reads; edges point upstream → downstream', () => {
    const data = changed();
    const c = node(data, 'r:c');
    assert.equal(c.architecture, 'arm/v7');
    assert.equal(node(data, 'r:d').os, 'windows');
    assert.deepEqual(c.inputs.map(([label]) => label), ['Dockerfile', 'context', 'platform', 'build key']);
    assert.match(c.reads[0] ?? '', new RegExp(`^FROM ${REGISTRY}/r:b.*\\(built here\\)$`));
    const ids = data.nodes.map((n) => n.id);
    assert.deepEqual(
      data.edges.map(([from, to]) => `${ids[from]}→${ids[to]}`),
      ['r:a→r:b', 'r:b→r:c'],
    );
  });
});

describe('report: page', () => {
  const hostile = '</script><script>window.pwned=1</script><!-- \u2028\u2029 "\' &amp;';

  it('embeds the data as script-safe JSON that reads back unchanged, and escapes the title', () => {
    const w = world();
    const plan = planJson(w.plan(undefined));
    const first = plan.platforms[0]?.reasons[0];
    assert.ok(first);
    first.detail = hostile;
    const html = renderReport({ title: hostile, graph: w.graph(), plan, source: 'saved-plan' });
    assert.equal(html.split('<script').length - 1, 2, 'two script elements: the data and the page script');
    assert.ok(!html.includes('window.pwned=1</script>'), 'no hostile text closes a script');
    assert.ok(html.includes(`<title>${escapeHtml(hostile)}</title>`));
    const data = embedded(html) as ReportData;
    assert.deepEqual(data.nodes[0]?.reasons, [hostile], 'the text reads back unchanged');
    assert.doesNotMatch(scriptSafeJson(data), /[<>&\u2028\u2029]/);
  });

  it('is one self-contained page: no src or href to load, every request forbidden by its policy', () => {
    const html = renderReport({ title: 'r', graph: world().graph(), source: 'graph' });
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
    assert.doesNotMatch(html, /<(script|link|img|iframe)\b[^>]*\b(src|href)=/i);
    assert.doesNotMatch(html, /https?:\/\/(?!www\.w3\.org\/2000\/svg)/, 'no address but the SVG namespace');
    const data = embedded(html) as ReportData;
    assert.equal(data.nodes.length, 4);
    assert.match(html, /dagre/i, 'the layout library is inline');
  });
});

describe('report: saved plan', () => {
  it('reads back what plan --format json wrote', () => {
    const w = world();
    const saved = planJson(w.plan(w.baseline()));
    assert.deepEqual(parseSavedPlan(JSON.stringify(saved), 'plan.json'), { platforms: saved.platforms, indexes: saved.indexes });
  });

  it('names the file and the first wrong field', () => {
    const w = world();
    const saved = planJson(w.plan(undefined));
    const bad = JSON.parse(JSON.stringify(saved)) as { platforms: Array<Record<string, unknown>> };
    const second = bad.platforms[1];
    assert.ok(second);
    second.decision = 'maybe';
    assert.throws(() => parseSavedPlan(JSON.stringify(bad), 'plan.json'), (err: unknown) => err instanceof InputError && err.message === 'plan.json: $.platforms[1].decision: must be "build" or "reuse" (a plan saved with `plan --format json`)');
    assert.throws(() => parseSavedPlan('{"platforms": 3}', 'p.json'), /p\.json: \$\.platforms: must be an array/);
    assert.throws(() => parseSavedPlan('not json', 'p.json'), /p\.json: not a plan saved with `plan --format json`/);
  });
});
