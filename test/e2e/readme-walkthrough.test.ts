import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLAVORS } from './flavors.ts';
import { type RunningApi, startApi } from './support.ts';

/**
 * The README's walkthrough, run as written (bash, curl, jq) against the local runtime, so that
 * the commands a newcomer pastes cannot drift from what the API does. Every command marked
 * `# → <status>` prints a status code; they must come out in that order, behind either front
 * door (the walkthrough meets no answer of the gateway's own that differs between them).
 */

const run = promisify(execFile);

function walkthrough(): string {
  const readme = readFileSync('README.md', 'utf8');
  const block = /<!-- walkthrough:start -->\s*```sh\n([\s\S]*?)```\s*<!-- walkthrough:end -->/.exec(readme)?.[1];
  if (block === undefined) throw new Error('README.md has no walkthrough block');
  return block;
}

describe.each(FLAVORS)('README walkthrough behind the %s front door', (flavor) => {
  let api: RunningApi;

  beforeAll(async () => {
    api = await startApi({ flavor });
  });

  afterAll(async () => {
    await api.close();
  });

  it('runs as written and every marked status code is the one the README promises', async () => {
    // Prepare: the block targets `npm start`'s default port; point it at this server instead.
    const script = walkthrough();
    const expected = [...script.matchAll(/# → (\d{3})\s*$/gm)].map((m) => m[1]);
    const pointed = script.replace('API=http://127.0.0.1:3000', `API=http://127.0.0.1:${api.port}`);
    expect(pointed).not.toBe(script);

    // Act
    const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', pointed], {
      env: { ...process.env, LATCHKEY_ACCOUNT_KEY: api.account.accountKey, LATCHKEY_USER_KEY: api.account.userKey },
      timeout: 60_000,
    });

    // Assess
    const statuses = stdout.split('\n').filter((line) => /^\d{3}$/.test(line));
    expect(expected.length).toBeGreaterThan(5);
    expect(statuses).toEqual(expected);
    expect(stdout).toContain('"role": "owner"');
    expect(stdout).toContain('"masked": "lka_********');
    expect(stdout).toContain(`"accountKey": "${api.account.accountKey}"`);
    expect(stdout).toContain('the network is 127.1.0.0/24');
    expect(stdout).toMatch(/^api-key\.delete$/m);
    expect(stdout).toMatch(/^account-key\.reveal$/m);
  }, 90_000);
});
