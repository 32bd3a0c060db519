// A real Chromium (Debian's package, /usr/bin/chromium) driven by playwright-core
// for the page tests. Headless, a fresh profile per launch, the flags that keep
// it from reaching out to Google (this machine's network is closed: without
// them it tries many connections at every start), and optionally run inside a
// network namespace (`netns`) so the page is requested from that namespace's
// address: the "Am I blocked?" and notice pages answer by the client's address.
// Screenshots go to test-output/screenshots/ (gitignored; the closing notes list them).
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = resolve(import.meta.dirname, '..', '..', 'test-output', 'screenshots');

const FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-default-apps', '--disable-extensions',
  '--metrics-recording-only', '--no-default-browser-check', '--disable-features=Translate,MediaRouter,OptimizationHints',
];

export interface LaunchOptions {
  /** Run Chromium inside this network namespace (`ip netns exec`). */
  netns?: string;
}

export interface TestBrowser {
  browser: Browser;
  /** A new context: its own cookies; certificates not checked (the test's self-signed ones). */
  context(): Promise<BrowserContext>;
  close(): Promise<void>;
}

export async function launchBrowser(o: LaunchOptions = {}): Promise<TestBrowser> {
  const dir = mkdtempSync(join(tmpdir(), 'pw-chromium-'));
  let executablePath = CHROMIUM;
  if (o.netns) {
    executablePath = join(dir, 'chromium-in-netns');
    if (!/^[A-Za-z0-9_.-]+$/.test(o.netns)) throw new Error(`bad netns name ${o.netns}`);
    writeFileSync(executablePath, `#!/bin/sh\nexec ip netns exec ${o.netns} ${CHROMIUM} "$@"\n`);
    chmodSync(executablePath, 0o755);
  }
  const browser = await chromium.launch({ executablePath, headless: true, args: [...FLAGS], timeout: 30_000 });
  return {
    browser,
    context: () => browser.newContext({ ignoreHTTPSErrors: true, locale: 'en-GB', timezoneId: 'UTC' }),
    close: async () => {
      await browser.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot as test-output/screenshots/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`bad screenshot name ${name}`);
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
