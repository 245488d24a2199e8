import { KMSClient } from '@aws-sdk/client-kms';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthorizerFaultError, createAuthorizerHandler } from '#functions/authorizer.ts';
import { DynamoDbStore } from '#shared/adapters/dynamodb-store.ts';
import { KmsSecrets } from '#shared/adapters/kms-secrets.ts';
import { createPepperProvider } from '#shared/authorization/peppers.ts';
import requestFixture from '#test/events/authorizer-request.json' with { type: 'json' };
import { type SeededOwner, apiDepsOn, createResilienceTable, type ResilienceTable, seedOwner } from '#test/support/resilience-app.ts';
import { quietLogger } from '#test/support/fakes/logger.ts';
import { FAULT_MODES, FaultInjector, type FaultMode } from '#test/support/resilience-faults.ts';
import { FAKE_KMS_KEY_ID, installFakeKms } from '#test/support/resilience-kms.ts';

/**
 * Every call the authorizer makes to DynamoDB or KMS, made to fail one at a time in every way a
 * call can fail, must leave the request without an Allow: the authorizer throws (API Gateway
 * answers 500 and caches nothing) or denies. The DynamoDB calls reach DynamoDB Local through
 * the real client; KMS is the mocked client's in-memory stand-in.
 */

const injector = new FaultInjector();
const kmsClient = new KMSClient({ region: 'us-east-1' });
const restoreKms = installFakeKms(kmsClient, injector);
const secrets = new KmsSecrets(kmsClient, FAKE_KMS_KEY_ID);

/** Everything a cold container calls before its first decision; the first test pins this list. */
const COLD_START_CALLS = ['QueryCommand', 'DecryptCommand', 'BatchGetItemCommand'];

type Outcome =
  | { readonly kind: 'resolved'; readonly result: APIGatewayAuthorizerResult }
  | { readonly kind: 'rejected'; readonly error: unknown }
  | { readonly kind: 'pending' };

function event(owner: SeededOwner): APIGatewayRequestAuthorizerEvent {
  const built = structuredClone(requestFixture) as unknown as APIGatewayRequestAuthorizerEvent;
  built.headers = { ...built.headers, 'x-api-key': owner.accountKey, 'x-api-secret-key': owner.userKey };
  built.multiValueHeaders = { ...built.multiValueHeaders, 'x-api-key': [owner.accountKey], 'x-api-secret-key': [owner.userKey] };
  return built;
}

async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** The authorizer's outcome; a call left hanging leaves it pending, which is checked once the hang is reached. */
async function outcomeOf(call: Promise<APIGatewayAuthorizerResult>, mode: FaultMode | undefined): Promise<Outcome> {
  const settled = call.then(
    (result): Outcome => ({ kind: 'resolved', result }),
    (error: unknown): Outcome => ({ kind: 'rejected', error }),
  );
  if (mode !== 'hang') return settled;
  const stillWaiting = waitUntil(() => injector.hung > 0)
    .then(() => new Promise((resolve) => setTimeout(resolve, 50)))
    .then((): Outcome => ({ kind: 'pending' }));
  return Promise.race([settled, stillWaiting]);
}

function allows(outcome: Outcome): boolean {
  return outcome.kind === 'resolved' && outcome.result.policyDocument.Statement.some((statement) => statement.Effect === 'Allow');
}

describe('authorizer under DynamoDB and KMS faults', () => {
  let faulty: ResilienceTable;
  let owner: SeededOwner;

  beforeAll(async () => {
    const tables = await createResilienceTable(injector);
    faulty = tables.faulty;
    const deps = apiDepsOn(tables.clean, secrets);
    owner = await seedOwner(deps, deps.store);
  });

  afterAll(() => {
    restoreKms();
  });

  /** A new Lambda container: nothing cached, so the pepper is loaded on its first request. */
  function coldAuthorizer() {
    const store = new DynamoDbStore(faulty.client, faulty.tableName);
    return createAuthorizerHandler({ credentials: store, peppers: createPepperProvider(store, secrets), logger: quietLogger() });
  }

  async function callsOfCleanRun(authorizer: ReturnType<typeof coldAuthorizer>): Promise<string[]> {
    injector.reset();
    const outcome = await outcomeOf(authorizer(event(owner)), undefined);
    expect(allows(outcome)).toBe(true);
    return injector.calls.map((call) => call.name);
  }

  it('makes exactly the calls the fault matrix covers: pepper Query and KMS Decrypt cold, one BatchGetItem per request', async () => {
    // Prepare
    const authorizer = coldAuthorizer();

    // Act
    const cold = await callsOfCleanRun(authorizer);
    const warm = await callsOfCleanRun(authorizer);

    // Assess
    // The pepper load and the BatchGetItem run side by side: their order is not fixed.
    expect(cold.toSorted()).toEqual(COLD_START_CALLS.toSorted());
    expect(warm).toEqual(['BatchGetItemCommand']);
  });

  describe('on a cold start', () => {
    const cases = FAULT_MODES.flatMap((mode) => COLD_START_CALLS.map((call) => ({ mode, call })));

    it.each(cases)('$call fails ($mode): never Allow, and the container recovers once the fault is gone', async ({ mode, call }) => {
      // Prepare
      const authorizer = coldAuthorizer();
      injector.reset();
      injector.arm(call, mode);

      // Act
      const outcome = await outcomeOf(authorizer(event(owner)), mode);
      injector.disarm();

      // Assess
      expect(injector.calls.map((made) => made.name)).toContain(call);
      expect(allows(outcome)).toBe(false);
      if (mode === 'hang') expect(outcome.kind).toBe('pending');
      else {
        expect(outcome.kind).toBe('rejected');
        // A fault is a 500 at API Gateway, never a 401 that a client would take for bad keys.
        expect(outcome.kind === 'rejected' && outcome.error).toBeInstanceOf(AuthorizerFaultError);
        // A failed pepper load is not cached: the next request of this container tries again.
        expect(allows(await outcomeOf(authorizer(event(owner)), undefined))).toBe(true);
      }
    });
  });

  describe('when warm', () => {
    it.each(FAULT_MODES)('the BatchGetItem fails (%s): never Allow', async (mode) => {
      // Prepare
      const authorizer = coldAuthorizer();
      await callsOfCleanRun(authorizer);
      injector.reset();
      injector.arm('BatchGetItemCommand', mode);

      // Act
      const outcome = await outcomeOf(authorizer(event(owner)), mode);
      injector.disarm();

      // Assess
      expect(allows(outcome)).toBe(false);
      expect(injector.calls.map((call) => call.name)).toEqual(['BatchGetItemCommand']);
      if (mode !== 'hang') expect(outcome.kind === 'rejected' && outcome.error).toBeInstanceOf(AuthorizerFaultError);
    });
  });
});
