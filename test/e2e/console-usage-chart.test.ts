import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot } from '#test/support/screenshots.ts';
import { type ConsoleBed, signIn, startConsoleBed } from './console-session.ts';
import { type Credentials, call, ownerKeys } from './support.ts';

/**
 * The Usage region's chart (DESIGN 17): the last 30 days of `GET /v1/account/usage`'s daily
 * series as bars, an image named `Requests per day...` whose name carries the total and the
 * busiest day, counted by the local runtime's limiter as requests go through the gateway.
 */

interface DailyUsage {
  date: string;
  requests: number;
}

let bed: ConsoleBed;
let page: Page;
const owner = (): Credentials => ownerKeys(bed.api);

beforeAll(async () => {
  bed = await startConsoleBed();
});

afterAll(async () => {
  await bed.close();
});

/** Signs in on a fresh page (a signed-in page keeps its session), and answers the series the page was given with the chart's name once drawn. */
async function signInAndReadChart(): Promise<{ daily: DailyUsage[]; name: string }> {
  page = await bed.newPage();
  const answered = page.waitForResponse((response) => new URL(response.url()).pathname === '/v1/account/usage');
  await signIn(bed, page, owner());
  const { daily } = (await (await answered).json()) as { daily: DailyUsage[] };
  const chart = page.getByRole('region', { name: 'Usage' }).getByRole('img', { name: /^Requests per day/ });
  await chart.waitFor();
  return { daily, name: (await chart.getAttribute('aria-label')) ?? '' };
}

const total = (daily: readonly DailyUsage[]): number => daily.reduce((sum, day) => sum + day.requests, 0);

describe('the Usage chart', () => {
  it("draws the API's 30 days and names their total and busiest day", async () => {
    // Act
    const { daily, name } = await signInAndReadChart();

    // Assess
    expect(daily).toHaveLength(30);
    const today = new Date().toISOString().slice(0, 10);
    expect(daily.at(-1)?.date).toBe(today);
    // The sign-in's own requests went through the gateway before usage was read: today has some.
    const todays = daily.at(-1)?.requests ?? 0;
    expect(todays).toBeGreaterThan(0);
    expect(name).toBe(`Requests per day, last 30 days: ${total(daily)} in all, most on ${today} (${todays})`);
    const bars = page.getByRole('region', { name: 'Usage' }).locator('svg rect.bar');
    expect(await bars.count()).toBe(30);
    await screenshot(page, 'usage');
  });

  it('counts requests made through the local runtime: the name grows by them at least', async () => {
    // Prepare
    const before = await signInAndReadChart();
    const made = 7;
    for (let index = 0; index < made; index += 1) {
      const response = await call(bed.api.port, '/v1/whoami', { keys: owner() });
      expect(response.status).toBe(200);
    }

    // Act
    const after = await signInAndReadChart();

    // Assess: the page's own requests count too, so at least the ones made here were added.
    expect(total(after.daily)).toBeGreaterThanOrEqual(total(before.daily) + made);
    const today = after.daily.at(-1);
    expect(after.name).toBe(`Requests per day, last 30 days: ${total(after.daily)} in all, most on ${today?.date ?? ''} (${today?.requests ?? 0})`);
    expect(after.name).not.toBe(before.name);
  });

  it('raised no page error', () => {
    expect(bed.problems.errors).toEqual([]);
  });
});
