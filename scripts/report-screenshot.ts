/**
 * docs/report.png and docs/report-selected.png: the HTML report of a real repository in headless
 * Chromium, the whole graph, then one platform clicked and zoomed in on. By default
 * dotnet/dotnet-buildtools-prereqs-docker (its clone at /work/ref/prereqs), graph only (`report
 * --offline`): its images read mcr.microsoft.com, which cannot be reached from where this runs. The
 * page is written to a temporary folder, never into the clone.
 *
 *   npm run docs:report-screenshot -- [--repo /work/ref/prereqs] [--select <platform id>] [--out-dir docs]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { reportPage } from '../src/shell/report.js';
import { launchChromium, openPage } from '../test/helpers/browser.js';

function argValue(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const repo = resolve(argValue('--repo', '/work/ref/prereqs'));
const outDir = resolve(argValue('--out-dir', 'docs'));
const selected = argValue('--select', 'dotnet-buildtools/prereqs:azurelinux-3.0-net10.0-cross-amd64');

const dir = mkdtempSync(join(tmpdir(), 'iw-report-shot-'));
const browser = await launchChromium();
try {
  const page = join(dir, 'report.html');
  await writeFile(page, await reportPage({ manifestFile: join(repo, 'manifest.json'), warn: () => undefined }, { from: 'graph' }));
  const watched = await openPage(browser, page, { width: 1600, height: 1000 });
  const shots = [join(outDir, 'report.png'), join(outDir, 'report-selected.png')];
  await watched.page.screenshot({ path: shots[0] });
  const node = watched.page.locator(`#graph .node[data-id="${selected}"]`);
  await node.click();
  // Drag the selected platform to the middle and zoom in with the wheel, as a reader would, until labels read.
  const box = await node.boundingBox();
  const canvas = await watched.page.locator('#canvas').boundingBox();
  if (box && canvas) {
    const middle = { x: canvas.x + canvas.width / 2, y: canvas.y + canvas.height / 2 };
    await watched.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await watched.page.mouse.down();
    await watched.page.mouse.move(middle.x, middle.y, { steps: 8 });
    await watched.page.mouse.up();
    for (let i = 0; i < 2; i++) await watched.page.mouse.wheel(0, -250);
  }
  await watched.page.screenshot({ path: shots[1] });
  if (watched.errors.length || watched.requests.length) throw new Error(`the page failed: ${[...watched.errors, ...watched.requests].join('; ')}`);
  for (const shot of shots) console.log(`${shot}: ${statSync(shot).size} bytes`);
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}
