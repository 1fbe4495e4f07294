// Headless Chromium for the browser tests: the system browser (Debian package `chromium`) driven by
// puppeteer-core, which downloads nothing. Every page records what a reader's console would show.
import { accessSync, constants, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { suite, type Test } from 'uvu';

/** DPM_CHROMIUM, else chromium or chromium-browser on PATH; a missing browser fails the test, never skips it. */
export function findChromium(): string {
  const explicit = process.env.DPM_CHROMIUM;
  const candidates = explicit
    ? [explicit]
    : (process.env.PATH ?? '')
        .split(delimiter)
        .flatMap((dir) => ['chromium', 'chromium-browser'].map((name) => join(dir, name)));
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here: try the next one
    }
  }
  throw new Error(
    explicit
      ? `DPM_CHROMIUM=${explicit} is not an executable: ` +
          'point it at a Chromium binary, or unset it to use chromium on PATH.'
      : 'headless Chromium not found (no chromium or chromium-browser on PATH): ' +
          'install it (Debian: apt-get install chromium) or set DPM_CHROMIUM to its path; the browser tests need it.',
  );
}

export function launchChromium(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: findChromium(),
    // --no-sandbox: CI runs as root, where Chromium refuses its sandbox.
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    headless: true,
  });
}

export interface OpenedPage {
  page: Page;
  /** Console errors and warnings, uncaught exceptions and failed requests, in order; a clean page has none. */
  problems: string[];
}

/** Opens a local file as a reader would (file://) and waits until it has loaded. */
export async function openFile(
  browser: Browser,
  file: string,
  viewport = { width: 1280, height: 900 },
): Promise<OpenedPage> {
  const page = await browser.newPage();
  await page.setViewport(viewport);
  // tsx (esbuild, keepNames) wraps named functions in the test's page callbacks with __name(); the page
  // needs that helper or every $$eval with a local function throws.
  await page.evaluateOnNewDocument('globalThis.__name = (fn) => fn;');
  const problems: string[] = [];
  // Warnings too: a Content-Security-Policy violation (an inline script the policy blocks) is reported as one.
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warn') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e instanceof Error ? e.message : String(e)}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, problems };
}

/**
 * A PNG (full page unless told otherwise) at `path` (in the test's temporary folder), and a copy in
 * DPM_BROWSER_SHOTS when set, so a person or CI can look at what the test saw. The PNG signature proves
 * Chromium painted something.
 */
export async function saveScreenshot(page: Page, path: string, options: { fullPage?: boolean } = {}): Promise<void> {
  const png = Buffer.from(await page.screenshot({ fullPage: options.fullPage ?? true, type: 'png' }));
  if (!png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    throw new Error(`the screenshot for ${path} is not a PNG`);
  writeFileSync(path, png);
  const keep = process.env.DPM_BROWSER_SHOTS;
  if (keep) {
    mkdirSync(keep, { recursive: true });
    copyFileSync(path, join(keep, basename(path)));
  }
}

export interface BrowserContext {
  /** A temporary folder for the pages and screenshots, removed afterwards. */
  dir: string;
  browser: Browser;
}

/** A uvu suite with one Chromium and one temporary folder for all its tests. */
export function browserSuite<T extends object = object>(name: string, extra: T = {} as T): Test<BrowserContext & T> {
  const t = suite<BrowserContext & T>(name, { dir: '', browser: undefined as unknown as Browser, ...extra });
  let launchError: unknown;
  t.before(async (ctx) => {
    ctx.dir = mkdtempSync(join(tmpdir(), 'dpm-browser-'));
    try {
      ctx.browser = await launchChromium();
    } catch (err) {
      launchError = err;
    }
  });
  // uvu does not catch an error thrown by `before` (the run would die without its "N passed, N failed"
  // line); thrown here instead, it fails every test of the suite with the message.
  t.before.each(() => {
    if (launchError) throw launchError;
  });
  t.after(async (ctx) => {
    await ctx.browser?.close();
    rmSync(ctx.dir, { recursive: true, force: true });
  });
  return t;
}
