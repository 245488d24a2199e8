import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANSWERS, FLAVORS } from './flavors.ts';
import { call, ownerKeys, startApi, type RunningApi } from './support.ts';

/**
 * `GET /v1/account/usage` behind each front door over HTTP: the plan is enforced behind REST's
 * usage plans, and the usage route says it is not behind HTTP API's, which has none (DESIGN 15).
 */
describe.each(FLAVORS)('GET /v1/account/usage behind the %s front door', (flavor) => {
  let api: RunningApi;

  beforeAll(async () => {
    api = await startApi({ flavor });
  });

  afterAll(async () => {
    await api.close();
  });

  it(`answers the plan with enforced: ${String(ANSWERS[flavor].plansEnforced)}`, async () => {
    // Act
    const usage = await call(api.port, '/v1/account/usage', { keys: ownerKeys(api) });

    // Assess
    expect(usage.status).toBe(200);
    expect(usage.json).toMatchObject({ enforced: ANSWERS[flavor].plansEnforced });
    expect(usage.json).toHaveProperty('plan');
  });
});
