import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalSecrets } from '#local/storage/local-secrets.ts';
import { SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import { ENV } from '#shared/adapters/environment.ts';
import { createPepperProvider, rotatePepper } from '#shared/authorization/peppers.ts';
import { createAccount } from '#shared/services/accounts.ts';
import { call, ownerKeys, type RunningApi, startApi } from './support.ts';
import { LocalUsagePlans } from '#local/storage/local-usage-plans.ts';

/** What the local runtime takes from its surroundings: the limit variables, and peppers rotated under it. */
describe('local runtime settings', () => {
  let api: RunningApi | undefined;

  afterEach(async () => {
    Reflect.deleteProperty(process.env, ENV.rulesPerKey);
    await api?.close();
    api = undefined;
  });

  it('applies LATCHKEY_MAX_RULES_PER_KEY, as docs/configuration.md says', async () => {
    // Prepare
    process.env[ENV.rulesPerKey] = '2';
    api = await startApi();
    const keys = ownerKeys(api);
    const path = `/v1/api-keys/${api.account.keyId}/cidr-allow-list`;

    // Act
    const statuses = [];
    for (const cidr of ['127.0.0.0/8', '10.0.0.0/8', '192.168.0.0/16']) {
      statuses.push((await call(api.port, path, { method: 'POST', keys, body: { cidr } })).status);
    }

    // Assess
    expect(statuses).toEqual([201, 201, 409]);
  });

  it('authorizes keys digested with a pepper rotated in while it runs, without a restart', async () => {
    // Prepare: the server has loaded pepper 1; a rotation adds 2 and a new account's keys use it.
    const secrets = new LocalSecrets(randomBytes(32));
    api = await startApi({ secrets });
    expect((await call(api.port, '/v1/whoami', { keys: ownerKeys(api) })).status).toBe(200);
    await rotatePepper(api.app.store, secrets);
    const created = await createAccount(
      { store: api.app.store, secrets, peppers: createPepperProvider(api.app.store, secrets), now: () => new Date(), usagePlans: new LocalUsagePlans() },
      { name: 'After rotation', ownerName: 'Rita', ownerEmail: 'rita@example.com' },
      SYSTEM_ACTOR,
    );

    // Act
    const fresh = await call(api.port, '/v1/whoami', { keys: { accountKey: created.accountKey, userKey: created.userKey } });
    const old = await call(api.port, '/v1/whoami', { keys: ownerKeys(api) });

    // Assess
    expect(fresh.status).toBe(200);
    expect(old.status).toBe(200);
  });
});
