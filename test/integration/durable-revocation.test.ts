import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalApp, createLocalApp } from '#local/process/app.ts';
import { DEFAULT_POLL_INTERVAL_MS, type RevocationStream, startRevocationStream } from '#local/stream/revocation-stream.ts';
import { LocalSecrets } from '#local/storage/local-secrets.ts';
import { ensurePepper } from '#shared/authorization/peppers.ts';
import { DEFAULT_FLUSH_WINDOW_MS, flushWaitBoundMs } from '#shared/services/revocation-flusher.ts';
import { type KeyPair, newTestAccount, sendThroughGateway } from '#test/support/api-events.ts';
import { quietLogger } from '#test/support/fakes/logger.ts';
import { createTestTable } from '#test/support/dynamodb.ts';
import { SimulatedApiGateway } from '#test/support/simulated-api-gateway.ts';

/**
 * Revocation resting on the table's stream alone, as on AWS: the handlers make no immediate
 * flush (immediateFlush: false), the stream poller reads DynamoDB Local's own stream, and the
 * flush goes through the real API Gateway adapter to a stand-in that behaves as API Gateway
 * does (accepted asynchronously, throttled at the account-wide rate, failing on demand).
 */

const ACCEPT_DELAY_MS = 50;
/**
 * What a loaded two-core machine may add to reading the stream and answering a request (other
 * test files drive the same DynamoDB Local meanwhile). The speed itself is measured by
 * `npm run bench -- --only 9`; these tests show the bound holds, far inside the cache TTL.
 */
const MACHINE_SLACK_MS = 2_000;
const boundMs = (failedAttempts: number): number =>
  DEFAULT_POLL_INTERVAL_MS + flushWaitBoundMs(failedAttempts) + ACCEPT_DELAY_MS + MACHINE_SLACK_MS;

let app: LocalApp;
let apiGateway: SimulatedApiGateway;
let stream: RevocationStream;

beforeAll(async () => {
  const table = await createTestTable();
  const secrets = new LocalSecrets(randomBytes(32));
  app = createLocalApp({
    documentClient: table.client,
    tableName: table.tableName,
    secrets,
    logger: quietLogger(),
    auditRetentionDays: 0,
    authorizerTtlSeconds: 300,
    immediateFlush: false,
  });
  await ensurePepper(app.store, secrets);
  apiGateway = new SimulatedApiGateway(app.authorizerCache, { acceptDelayMs: ACCEPT_DELAY_MS });
  stream = await startRevocationStream({ dynamodb: table.raw, tableName: table.tableName, cache: apiGateway.cache, logger: quietLogger() });
});

afterAll(async () => {
  await stream.stop();
  apiGateway.restore();
});

function newAccount(): Promise<KeyPair> {
  return newTestAccount(app.apiDeps);
}

function send(keys: KeyPair, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  return sendThroughGateway(app.gateway, keys, method, path, body);
}

async function addViewer(owner: KeyPair): Promise<KeyPair> {
  const user = await send(owner, 'POST', '/v1/users', { name: 'Vera Viewer', email: 'vera@example.com', role: 'viewer' });
  expect(user.status).toBe(201);
  const key = await send(owner, 'POST', '/v1/api-keys', { name: `viewer-key-${randomBytes(3).toString('hex')}`, userId: user.json.id });
  expect(key.status).toBe(201);
  return {
    accountKey: owner.accountKey,
    userKey: key.json.secret as string,
    principal: { accountId: owner.principal.accountId, userId: user.json.id as string, role: 'viewer', keyId: key.json.id as string },
  };
}

/** Milliseconds from now until the key's requests are refused; fails past `limitMs`. */
async function timeUntilRefused(keys: KeyPair, limitMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const elapsed = performance.now() - started;
    const { status } = await send(keys, 'GET', '/v1/whoami');
    if (status === 401) return elapsed;
    expect(status).toBe(200);
    if (elapsed > limitMs) throw new Error(`the revoked key still worked ${Math.round(elapsed)} ms after the change committed`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Waits until a whole flush window (and some) has passed with no flush call. */
async function quiet(): Promise<void> {
  for (;;) {
    const calls = apiGateway.calls.length;
    await new Promise((resolve) => setTimeout(resolve, DEFAULT_FLUSH_WINDOW_MS + 300));
    if (apiGateway.calls.length === calls) return;
  }
}

function minimumGap(times: readonly number[]): number {
  let gap = Number.POSITIVE_INFINITY;
  for (let i = 1; i < times.length; i += 1) gap = Math.min(gap, (times[i] ?? 0) - (times[i - 1] ?? 0));
  return gap;
}

describe('durable revocation through the table stream', () => {
  it('a deleted key keeps its cached Allow until a flush succeeds, and stops within the bound though the first flushes fail', async () => {
    const owner = await newAccount();
    const viewer = await addViewer(owner);
    expect((await send(viewer, 'GET', '/v1/whoami')).status).toBe(200);
    // Let the set-up's own changes be flushed first.
    await new Promise((resolve) => setTimeout(resolve, DEFAULT_FLUSH_WINDOW_MS + 300));
    const callsBefore = apiGateway.calls.length;
    apiGateway.failNext(2);

    expect((await send(owner, 'DELETE', `/v1/api-keys/${viewer.principal.keyId}`)).status).toBe(204);
    // Committed and answered; no handler flushed, and the first flush attempt fails: the
    // cached Allow still answers (this is the window the stream closes).
    expect((await send(viewer, 'GET', '/v1/whoami')).status).toBe(200);

    const elapsed = await timeUntilRefused(viewer, boundMs(2));
    expect(elapsed).toBeLessThanOrEqual(boundMs(2));
    expect(apiGateway.calls.length - callsBefore).toBeGreaterThanOrEqual(3);
  });

  it("one account's flood of narrowing changes does not hold another account's revocation past the bound", async () => {
    const flooder = await newAccount();
    const victimOwner = await newAccount();
    const victim = await addViewer(victimOwner);
    const targets: { keyId: string; ruleId: string }[] = [];
    for (let lane = 0; lane < 3; lane += 1) {
      const target = await addViewer(flooder);
      const rule = await send(flooder, 'POST', `/v1/api-keys/${target.principal.keyId}/cidr-allow-list`, { cidr: '192.0.2.0/24' });
      expect(rule.status).toBe(201);
      targets.push({ keyId: target.principal.keyId, ruleId: rule.json.id as string });
    }
    expect((await send(victim, 'GET', '/v1/whoami')).status).toBe(200);

    // The flood: every edit of the rule narrows the key's allow list.
    let flooding = true;
    let edits = 0;
    const flood = Promise.all(
      targets.map(async ({ keyId, ruleId }, lane) => {
        while (flooding) {
          const cidr = `198.${51 + lane}.${edits % 250}.0/24`;
          const edited = await send(flooder, 'PUT', `/v1/api-keys/${keyId}/cidr-allow-list/${ruleId}`, { cidr });
          expect(edited.status).toBe(200);
          edits += 1;
        }
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    // The victim's Allow is cached afresh just before its key goes.
    expect((await send(victim, 'GET', '/v1/whoami')).status).toBe(200);
    expect((await send(victimOwner, 'DELETE', `/v1/api-keys/${victim.principal.keyId}`)).status).toBe(204);
    const elapsed = await timeUntilRefused(victim, boundMs(1));
    flooding = false;
    await flood;

    expect(edits).toBeGreaterThanOrEqual(5);
    // A throttled attempt costs one backoff at most: the flood never gets ahead of the victim.
    expect(elapsed).toBeLessThanOrEqual(boundMs(1));
  });

  it("waits out API Gateway's throttling (the account's management budget spent elsewhere) and still flushes", async () => {
    const owner = await newAccount();
    const viewer = await addViewer(owner);
    // Every change before this one flushed, the previous test's flood included: a flush still
    // under way would drop the Allow cached below without the throttled call this is about.
    await quiet();
    expect((await send(viewer, 'GET', '/v1/whoami')).status).toBe(200);
    const throttledBefore = apiGateway.throttled;
    apiGateway.throttleNext(1);

    expect((await send(owner, 'DELETE', `/v1/api-keys/${viewer.principal.keyId}`)).status).toBe(204);
    const elapsed = await timeUntilRefused(viewer, boundMs(1));

    expect(apiGateway.throttled).toBeGreaterThan(throttledBefore);
    expect(elapsed).toBeLessThanOrEqual(boundMs(1));
  });

  it('makes at most one flush call per window, however many changes arrived', () => {
    expect(apiGateway.calls.length).toBeGreaterThan(2);
    // The flusher spaces its calls by the window on its own clock; where they arrive, the event
    // loop of a loaded machine may shift one by a few tens of milliseconds.
    expect(minimumGap(apiGateway.calls)).toBeGreaterThanOrEqual(DEFAULT_FLUSH_WINDOW_MS - 50);
    expect(minimumGap(stream.flusher.callTimes)).toBeGreaterThanOrEqual(DEFAULT_FLUSH_WINDOW_MS);
    expect(stream.narrowingChanges()).toBeGreaterThan(apiGateway.calls.length);
  });
});
