import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';
import { launchChromium, openPage, type PageProblems } from '#test/support/browser.ts';
import { type Credentials, type RunningApi, startApi } from './support.ts';

/**
 * One local runtime and one Chromium for a console test file, with every page's script errors
 * collected, so that a file ends by checking that no flow raised one.
 */
export interface ConsoleBed {
  readonly api: RunningApi;
  readonly origin: string;
  readonly problems: PageProblems;
  /** A fresh context (clipboard allowed) and page; `init` runs in the page before its own script. */
  newPage(init?: string): Promise<Page>;
  close(): Promise<void>;
}

export async function startConsoleBed(): Promise<ConsoleBed> {
  const api = await startApi();
  const origin = `http://127.0.0.1:${api.port}`;
  const browser: Browser = await launchChromium();
  const problems: PageProblems = { errors: [] };
  const contexts: BrowserContext[] = [];
  return {
    api,
    origin,
    problems,
    async newPage(init) {
      const { context, page } = await openPage(browser, origin, problems);
      contexts.push(context);
      if (init !== undefined) await context.addInitScript(init);
      return page;
    },
    async close() {
      for (const context of contexts) await context.close();
      await browser.close();
      await api.close();
    },
  };
}

export async function signIn(bed: ConsoleBed, page: Page, keys: Credentials): Promise<void> {
  await page.goto(`${bed.origin}/console`);
  await page.getByLabel('Account key').fill(keys.accountKey);
  await page.getByLabel('User key').fill(keys.userKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** The console answers after its requests do; under load that can take a few seconds. */
export const poll = <T>(read: () => T | Promise<T>) => expect.poll(read, { timeout: 8_000 });
