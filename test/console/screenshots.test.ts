import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Page } from 'playwright-core';

/**
 * The console's screenshots in docs/ are tracked: `npm test` must leave them alone, and only
 * `npm run screenshots` (LATCHKEY_SCREENSHOTS=1) writes them.
 */

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

async function screenshotsTaken(flag: string | undefined): Promise<string[]> {
  if (flag === undefined) vi.stubEnv('LATCHKEY_SCREENSHOTS', undefined);
  else vi.stubEnv('LATCHKEY_SCREENSHOTS', flag);
  vi.resetModules();
  const { screenshot } = await import('#test/support/screenshots.ts');
  const written: string[] = [];
  const page = { screenshot: (options: { path: string }) => { written.push(options.path); return Promise.resolve(Buffer.alloc(0)); } } as unknown as Page;
  await screenshot(page, 'sign-in');
  return written;
}

describe('console screenshots', () => {
  it('are not written by a test run', async () => {
    expect(await screenshotsTaken(undefined)).toEqual([]);
    expect(await screenshotsTaken('0')).toEqual([]);
  });

  it('are written to docs/ when asked for, as npm run screenshots asks', async () => {
    const written = await screenshotsTaken('1');

    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/docs\/console-sign-in\.png$/);
  });
});
