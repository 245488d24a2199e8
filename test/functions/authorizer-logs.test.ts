import { randomBytes } from 'node:crypto';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAuthorizerHandler } from '#functions/authorizer.ts';
import { createLogger } from '#functions/commons/logger.ts';
import { PepperRing } from '#shared/domain/hashing.ts';
import { newId } from '#shared/domain/ids.ts';
import { formatAccountKey, formatUserKey } from '#shared/domain/key-format.ts';
import type { AuthorizationRecords } from '#shared/ports/credentials.ts';
import requestFixture from '#test/events/authorizer-request.json' with { type: 'json' };
import { FakeCredentialStore } from '#test/support/fakes/credential-store.ts';
import { captureProcessOutput } from '#test/support/output-capture.ts';

/** What the authorizer writes to its log, captured from the production logger's streams. */

function eventWith(accountKey: string, userKey: string, sourceIp: string): APIGatewayRequestAuthorizerEvent {
  const event = structuredClone(requestFixture) as unknown as APIGatewayRequestAuthorizerEvent;
  event.headers = { ...event.headers, 'x-api-key': accountKey, 'x-api-secret-key': userKey };
  event.multiValueHeaders = { ...event.multiValueHeaders, 'x-api-key': [accountKey], 'x-api-secret-key': [userKey] };
  event.requestContext.identity.sourceIp = sourceIp;
  return event;
}

/** Every textual form a secret could take in a log line. */
function renderings(secret: Uint8Array | string): string[] {
  if (typeof secret === 'string') return [secret, secret.slice(-49, -6)];
  const bytes = Buffer.from(secret);
  return [bytes.toString('hex'), bytes.toString('hex').toUpperCase(), bytes.toString('base64'), bytes.toString('base64url'), JSON.stringify([...bytes]).slice(1, 40)];
}

describe('authorizer logs', () => {
  const pepper = randomBytes(32);
  const ring = new PepperRing([{ version: 1, secret: pepper }]);
  const accountId = newId();
  const keyId = newId();
  const accountKey = formatAccountKey(accountId);
  const userKey = formatUserKey(accountId, keyId);
  const forgedUserKey = formatUserKey(accountId, keyId);
  const accountDigest = ring.digest(accountKey).hash;
  const userDigest = ring.digest(userKey).hash;
  const records: AuthorizationRecords = {
    account: { apiEnabled: true, accountKeyHash: accountDigest, accountKeyPepperVersion: 1 },
    key: { userId: newId(), role: 'owner', secretHash: userDigest, pepperVersion: 1, cidrs: ['10.0.0.0/8'] },
  };
  const credentials = new FakeCredentialStore().put(accountId, keyId, records);
  let output: string[];

  beforeEach(() => {
    output = [];
    credentials.failure = undefined;
    captureProcessOutput(output);
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  async function run(event: APIGatewayRequestAuthorizerEvent): Promise<void> {
    const handler = createAuthorizerHandler({ credentials, peppers: () => Promise.resolve(ring), logger: createLogger('latchkey-authorizer') });
    await handler(event).catch(() => undefined);
  }

  function lines(): Record<string, unknown>[] {
    return output
      .join('')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  it('writes one line per decision with the decision, reason, ids and source address', async () => {
    // Act
    await run(eventWith(accountKey, userKey, '10.1.2.3'));
    await run(eventWith(accountKey, userKey, '192.0.2.1'));
    await run(eventWith(accountKey, forgedUserKey, '10.1.2.3'));

    // Assess
    expect(lines()).toEqual([
      expect.objectContaining({ decision: 'allow', reason: 'valid-keys', accountId, keyId, sourceIp: '10.1.2.3' }),
      expect.objectContaining({ decision: 'deny-source-ip', reason: 'source-ip-not-allowed', accountId, keyId, sourceIp: '192.0.2.1' }),
      expect.objectContaining({ decision: 'deny-unauthorized', reason: 'user-key-mismatch', accountId, keyId, sourceIp: '10.1.2.3' }),
    ]);
  });

  it('never writes a key, a digest or the pepper, whatever the outcome', async () => {
    // Act
    await run(eventWith(accountKey, userKey, '10.1.2.3'));
    await run(eventWith(accountKey, userKey, '192.0.2.1'));
    await run(eventWith(accountKey, forgedUserKey, '10.1.2.3'));
    await run(eventWith(accountKey, userKey.slice(0, -1), '10.1.2.3'));
    await run(eventWith(accountKey.slice(0, -1) + (accountKey.endsWith('x') ? 'y' : 'x'), userKey, '10.1.2.3'));
    credentials.failure = new Error('ProvisionedThroughputExceededException');
    await run(eventWith(accountKey, userKey, '10.1.2.3'));

    // Assess
    const text = output.join('');
    expect(lines()).toHaveLength(6);
    const secrets = [accountKey, userKey, forgedUserKey, accountDigest, userDigest, pepper].flatMap(renderings);
    for (const secret of secrets) expect(text).not.toContain(secret);
  });
});
