import path from 'node:path';
import type { Page } from 'playwright-core';
import { PROJECT_ROOT } from '#infra/constructs/latchkey-function.ts';

/**
 * The console's screenshots in docs/ are tracked files: the browser tests write them only when
 * asked (`npm run screenshots`, which sets LATCHKEY_SCREENSHOTS=1), so that `npm test` leaves the
 * tree as it found it.
 */
export const SCREENSHOTS_WANTED = process.env.LATCHKEY_SCREENSHOTS === '1';

export const DOCS_DIRECTORY = path.join(PROJECT_ROOT, 'docs');

export async function screenshot(page: Page, name: string): Promise<void> {
  if (!SCREENSHOTS_WANTED) return;
  await page.screenshot({ path: path.join(DOCS_DIRECTORY, `console-${name}.png`) });
}
