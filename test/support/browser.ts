import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`; `.ci/run` installs it when missing). */
export const CHROMIUM_PATH = process.env.LATCHKEY_CHROMIUM ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Headless Chromium; without it the browser tests fail (they never skip), saying what to install. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: the console's browser tests need it. Install it with 'apt-get install -y chromium' (or set LATCHKEY_CHROMIUM to its path).`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

/** Everything a page reports as wrong: uncaught exceptions and console errors. */
export interface PageProblems {
  readonly errors: string[];
}

/** A context with clipboard access for `origin`, and a page whose script errors are collected. */
export async function openPage(browser: Browser, origin: string, problems: PageProblems): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 }, reducedMotion: 'reduce' });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  // A missing element fails the step with its locator in the message, well inside the test's own timeout.
  context.setDefaultTimeout(8_000);
  const page = await context.newPage();
  page.on('pageerror', (error) => problems.errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // A refused request (401/403/400) is logged by Chromium as a failed resource load: that is
    // the API answering, which the tests provoke on purpose; script errors are what count here.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.errors.push(`console: ${message.text()}`);
  });
  return { context, page };
}

// Reads inside the page, as expressions: the tests' TypeScript has no DOM types.

export function readClipboard(page: Page): Promise<string> {
  return page.evaluate<string>('navigator.clipboard.readText()');
}

export function focusIsInDialog(page: Page): Promise<boolean> {
  return page.evaluate<boolean>("document.activeElement !== null && document.activeElement.closest('dialog') !== null");
}

export function focusedText(page: Page): Promise<string | null> {
  return page.evaluate<string | null>('document.activeElement?.textContent ?? null');
}

export function storedItems(page: Page): Promise<{ session: number; local: number }> {
  return page.evaluate<{ session: number; local: number }>('({ session: sessionStorage.length, local: localStorage.length })');
}
