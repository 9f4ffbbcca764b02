/**
 * The HTML report in headless Chromium (Debian's chromium, driven by playwright-core), used as a
 * person would: filters hide platforms, a click shows the reason and the path to the change, search
 * finds a platform, the list view pages a repository of 5,000 platforms. On every page: no console
 * error, no uncaught exception, no request.
 *
 * The plan is real: a generated repository recorded as built in a real registry on loopback, then one
 * payload changed (chain g0 rebuilds) and one tag added (a retag).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { createRegistryClient } from '../../src/registry/index.js';
import { chromiumPath, launchChromium, openPage, type WatchedPage } from '../helpers/browser.js';
import { runCli } from '../helpers/cli.js';
import { pushImage } from '../helpers/registry-content.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { recordScaleRepoBuilt, writeScaleRepo, type ScaleRepo } from '../helpers/scale-repo.js';

const skip = chromiumPath() ? false : 'no Chromium (scripts/setup-engine.sh installs it)';
/** Loading the 5,000-platform page and showing its list, on a shared 2-core machine; about 2 s when idle. */
const LARGE_PAGE_BOUND_MS = 20_000;

let dir: string;
let registry: TestRegistry;
let repo: ScaleRepo;
let browser: Browser;
const id = (tag: string): string => `report/r${Number(/^g(\d+)/.exec(tag)?.[1]) % 3}:${tag}`;

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'iw-report-browser-'));
  registry = await startRegistry();
  await pushImage(registry, 'base/busybox', 'stable');
  // 30 platforms: chains g0…g5 of 5 (g<chain>-l<level>-0), chain k in repo r(k mod 3).
  repo = writeScaleRepo(dir, { platforms: 30, shape: 'chains', repos: 3, registry: registry.host, prefix: 'report', base: `${registry.host}/base/busybox:stable` });
  await recordScaleRepoBuilt(repo, join(dir, 'image-info.json'), createRegistryClient());
  writeFileSync(join(dir, 'src/g0/l0-0/payload.txt'), 'changed\n');
  const manifest = JSON.parse(readFileSync(repo.manifest, 'utf8')) as { repos: Array<{ images: Array<{ platforms: Array<{ tags: Record<string, object> }> }> }> };
  const g1Top = manifest.repos[1]?.images[0]?.platforms[0];
  assert.ok(g1Top);
  g1Top.tags['g1-extra'] = {};
  writeFileSync(repo.manifest, JSON.stringify(manifest));
  browser = await launchChromium();
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await registry?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function shownIds(watched: WatchedPage, selector = '#graph .node'): Promise<string[]> {
  return watched.page.$$eval(selector, (els) => els.map((el) => (el as HTMLElement).dataset.id ?? ''));
}

function assertClean(watched: WatchedPage): void {
  assert.deepEqual(watched.errors, [], 'nothing fails in the console');
  assert.deepEqual(watched.requests, [], 'the page requests nothing');
}

describe('report in Chromium', { skip }, () => {
  it('filters hide platforms, a click shows the reason and the path to the change, search finds a platform', async () => {
    const made = await runCli(['report', '--manifest', repo.manifest, '--image-info', join(dir, 'image-info.json'), '--out', join(dir, 'report.html')]);
    assert.equal(made.code, 0, made.stderr);
    const watched = await openPage(browser, join(dir, 'report.html'));
    const { page } = watched;

    assert.equal((await shownIds(watched)).length, 30, 'the graph view draws every platform');
    assert.equal(await page.$$eval('#graph .node.build', (els) => els.length), 5, 'chain g0 builds');
    assert.deepEqual(await shownIds(watched, '#graph .node.retag'), [id('g1-l0-0')]);
    assert.equal(await page.$$eval('#graph .edge', (els) => els.length), 24);

    // Repo filter: only r1's chains (g1, g4).
    await page.selectOption('#filter-repo', 'report/r1');
    const r1 = await shownIds(watched);
    assert.equal(r1.length, 10);
    assert.ok(r1.every((n) => n.startsWith('report/r1:')), r1.join());
    await page.selectOption('#filter-repo', '');

    // Decision filter: without reuse, what builds and what is retagged.
    await page.uncheck('#decision-reuse');
    assert.deepEqual((await shownIds(watched)).sort(), [id('g0-l0-0'), id('g0-l1-0'), id('g0-l2-0'), id('g0-l3-0'), id('g0-l4-0'), id('g1-l0-0')].sort());
    await page.check('#decision-reuse');
    assert.equal((await shownIds(watched)).length, 30);

    // Click: the reason, the path from the change, upstream and downstream highlighted.
    await page.click(`#graph .node[data-id="${id('g0-l2-0')}"]`);
    const details = await page.textContent('#details');
    assert.match(details ?? '', new RegExp(`upstream ${id('g0-l1-0')} is rebuilt`));
    assert.deepEqual(await page.$$eval('#details h3', (els) => els.map((el) => el.textContent)), [
      'Platform',
      'Why',
      'Path to the change',
      'Inputs (what the build key covers)',
      'Reads',
      'Upstream (2)',
      'Downstream (2)',
    ]);
    assert.deepEqual((await shownIds(watched, '#graph .node.upstream')).sort(), [id('g0-l0-0'), id('g0-l1-0')]);
    assert.deepEqual((await shownIds(watched, '#graph .node.downstream')).sort(), [id('g0-l3-0'), id('g0-l4-0')]);
    assert.deepEqual(await shownIds(watched, '#graph .node.on-path'), [id('g0-l0-0'), id('g0-l1-0')]);
    await page.click(`#graph .node[data-id="${id('g0-l0-0')}"]`);
    assert.match((await page.textContent('#details .reasons')) ?? '', /payload\.txt/, 'the root names the changed file');

    // Search: Enter selects the first match.
    await page.fill('#search', 'g4-l3');
    await page.press('#search', 'Enter');
    assert.deepEqual(await shownIds(watched), [id('g4-l3-0')]);
    assert.equal(await page.textContent('#details h2'), id('g4-l3-0'));

    await page.fill('#search', '');
    await page.press('#search', 'Enter');

    // Colour by repo: one colour per repo, with a legend.
    await page.selectOption('#colour-by', 'repo');
    assert.deepEqual(await page.$$eval('#legend .chip', (els) => els.map((el) => el.textContent)), ['report/r0', 'report/r1', 'report/r2']);
    const fills = await page.$$eval('#graph .node rect', (els) => new Set(els.map((el) => (el as SVGRectElement).style.fill)).size);
    assert.equal(fills, 3);

    // The list view shows the same platforms as rows.
    await page.click('#view-list');
    assert.equal((await shownIds(watched, '#list tr.row')).length, 30);
    assertClean(watched);
  });

  it('hostile text from a saved plan shows as text and runs nothing', async () => {
    const saved = await runCli(['plan', '--manifest', repo.manifest, '--image-info', join(dir, 'image-info.json'), '--format', 'json']);
    assert.equal(saved.code, 0, saved.stderr);
    const plan = JSON.parse(saved.stdout) as { platforms: Array<{ id: string; reasons: Array<{ detail: string }> }> };
    const hostile = '</script><img src=x onerror="window.pwned=1"><script>window.pwned=2</script>\u2028';
    const target = plan.platforms.find((p) => p.id === id('g0-l0-0'))?.reasons[0];
    assert.ok(target);
    target.detail = hostile;
    writeFileSync(join(dir, 'hostile.json'), JSON.stringify(plan));
    const made = await runCli(['report', '--manifest', repo.manifest, '--plan', join(dir, 'hostile.json'), '--out', join(dir, 'hostile.html')]);
    assert.equal(made.code, 0, made.stderr);
    const watched = await openPage(browser, join(dir, 'hostile.html'));
    await watched.page.click('#view-list');
    await watched.page.click(`#list tr.row[data-id="${id('g0-l0-0')}"]`);
    assert.equal(await watched.page.textContent('#details .reasons li'), hostile);
    assert.equal(await watched.page.evaluate(() => (window as unknown as { pwned?: number }).pwned), undefined);
    assert.equal(await watched.page.$$eval('img', (els) => els.length), 0);
    assertClean(watched);
  });

  it('5,000 platforms: opens in the list view within the bound, search finds one, a narrow filter draws its graph', async (t) => {
    const large = writeScaleRepo(join(dir, 'large'), { platforms: 5000, shape: 'chains', repos: 10, registry: registry.host, prefix: 'large', base: `${registry.host}/base/busybox:stable` });
    const made = await runCli(['report', '--manifest', large.manifest, '--offline', '--out', join(dir, 'large.html')]);
    assert.equal(made.code, 0, made.stderr);
    const started = performance.now();
    const watched = await openPage(browser, join(dir, 'large.html'));
    const { page } = watched;
    await page.waitForSelector('#list tr.row');
    const elapsed = performance.now() - started;
    t.diagnostic(`5,000-platform page (${Math.round(readFileSync(join(dir, 'large.html')).length / 1e6)} MB) open with its list in ${Math.round(elapsed)} ms`);
    assert.ok(elapsed < LARGE_PAGE_BOUND_MS, `opened in ${Math.round(elapsed)} ms`);
    assert.equal(await page.getAttribute('#view-list', 'aria-pressed'), 'true', 'a large graph opens in the list view');
    assert.equal((await shownIds(watched, '#list tr.row')).length, 300, 'rows a page at a time');
    await page.click('#list button.more');
    assert.equal((await shownIds(watched, '#list tr.row')).length, 600);

    await page.fill('#search', 'g999-l4');
    await page.press('#search', 'Enter');
    assert.deepEqual(await shownIds(watched, '#list tr.row'), ['large/r9:g999-l4-0']);
    assert.equal(await page.textContent('#details h2'), 'large/r9:g999-l4-0');
    assert.match((await page.textContent('#details')) ?? '', /Upstream \(4\)/);

    // The graph view refuses to draw 5,000, and draws a filtered chain.
    await page.fill('#search', '');
    await page.press('#search', 'Enter');
    await page.click('#view-graph');
    assert.match((await page.textContent('#graph-note')) ?? '', /5000 platforms match: the graph draws at most 600/);
    await page.fill('#search', 'g12-');
    await page.press('#search', 'Enter');
    assert.equal((await shownIds(watched)).length, 5);
    assert.equal(await page.$$eval('#graph .edge', (els) => els.length), 4);
    assertClean(watched);
  });
});
