import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatUserKey } from '#shared/domain/key-format.ts';
import { type HttpResult, type RunningApi, call, createUserWithKey, ownerKeys, startApi } from './support.ts';

/**
 * The leak route is no oracle for which keys are valid, over real HTTP through the local
 * runtime: a report of a valid key does writes that a report of garbage does not, so every
 * answer is held back until a fixed time after the request started. This rule is about time:
 * no answer, for any report, may come sooner.
 */

/** The hold-back the route promises, written out here: lowering the constant must fail this suite. */
const HOLD_BACK_MS = 300;

let api: RunningApi;

beforeAll(async () => {
  api = await startApi();
});

afterAll(async () => {
  await api.close();
});

/** The report's answer and the milliseconds from sending it to its last byte. */
async function timedReport(keys: readonly string[]): Promise<{ response: HttpResult; elapsedMs: number }> {
  const started = performance.now();
  const response = await call(api.port, '/v1/leaked-keys', { method: 'POST', body: { keys } });
  return { response, elapsedMs: performance.now() - started };
}

describe('POST /v1/leaked-keys answers no sooner than its hold-back', () => {
  it.each<[string, () => Promise<readonly string[]>]>([
    ['garbage', () => Promise.resolve(['not-a-key', 'x'.repeat(40)])],
    ['a well-formed key naming a real key with a secret never issued', async () => [formatUserKey(api.account.account.id, (await createUserWithKey(api, 'viewer')).keyId)]],
    ['a valid user key (deleted)', async () => [(await createUserWithKey(api, 'viewer')).keys.userKey]],
    ['a valid account key (flagged)', () => Promise.resolve([ownerKeys(api).accountKey])],
    ['a valid account key again (already flagged)', () => Promise.resolve([ownerKeys(api).accountKey])],
  ])('%s', async (_case, keys) => {
    // Prepare
    const reported = await keys();

    // Act
    const { response, elapsedMs } = await timedReport(reported);

    // Assess
    expect(response.status).toBe(202);
    expect(response.json).toEqual({});
    expect(elapsedMs).toBeGreaterThanOrEqual(HOLD_BACK_MS);
  });

  it('did the work a valid key causes within that time: the reported user key is gone when the answer comes', async () => {
    // Prepare
    const holder = await createUserWithKey(api, 'viewer');
    expect((await call(api.port, '/v1/whoami', { keys: holder.keys })).status).toBe(200);

    // Act
    const { elapsedMs } = await timedReport([holder.keys.userKey]);

    // Assess
    expect(elapsedMs).toBeGreaterThanOrEqual(HOLD_BACK_MS);
    expect((await call(api.port, '/v1/whoami', { keys: holder.keys })).status).toBe(401);
  });
});
