/**
 * Headless Chromium for tests and scripts: Debian's `chromium` (installed by scripts/setup-engine.sh),
 * driven by playwright-core, which downloads no browser of its own. A page opened with `openPage`
 * records what a user would call broken: console errors, uncaught exceptions, and any request
 * other than the page's own file.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

/** IMAGEWRIGHT_CHROMIUM, else Debian's /usr/bin/chromium. */
export function chromiumPath(): string | undefined {
  const path = process.env.IMAGEWRIGHT_CHROMIUM ?? '/usr/bin/chromium';
  return existsSync(path) ? path : undefined;
}

export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('no Chromium: run scripts/setup-engine.sh (it installs Debian\'s chromium) or set IMAGEWRIGHT_CHROMIUM');
  // As root (CI, this machine) Chromium refuses to start with its sandbox.
  return chromium.launch({ executablePath, args: ['--no-sandbox'] });
}

export interface WatchedPage {
  page: Page;
  /** Console errors and uncaught exceptions, in order. */
  errors: string[];
  /** URLs requested besides the page itself. */
  requests: string[];
}

export async function openPage(browser: Browser, file: string, viewport = { width: 1400, height: 900 }): Promise<WatchedPage> {
  const page = await browser.newPage({ viewport });
  const url = pathToFileURL(file).href;
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  page.on('request', (request) => {
    if (request.url() !== url) requests.push(request.url());
  });
  await page.goto(url);
  return { page, errors, requests };
}
