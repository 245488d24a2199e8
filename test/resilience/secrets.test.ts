import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '#functions/commons/logger.ts';
import { createLocalApp, type LocalApp } from '#local/process/app.ts';
import { closeServer, createServer } from '#local/process/server.ts';
import { SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import { SECRET_LENGTH, CHECKSUM_LENGTH } from '#shared/domain/key-format.ts';
import { ensurePepper } from '#shared/authorization/peppers.ts';
import { createAccount } from '#shared/services/accounts.ts';
import { type ResilienceTable, createResilienceTable, newLocalSecrets } from '#test/support/resilience-app.ts';
import { scanTable } from '#test/support/resilience-table.ts';
import { captureProcessOutput } from '#test/support/output-capture.ts';

/**
 * A whole session over HTTP against the local runtime (server, gateway emulator, authorizer,
 * handlers, DynamoDB Local), with every log line the functions and the server write captured
 * at DEBUG level. Afterwards no stored item and no log line holds a plaintext key, and no log
 * line holds a digest or ciphertext; each key appears in exactly the responses meant to carry
 * it (its creation, and for the account key the audited reveal).
 */

interface Exchange {
  readonly label: string;
  readonly status: number;
  readonly text: string;
}

/** Every textual form a key could take: whole, and its random part alone. */
function keyForms(key: string): string[] {
  return [key, key.slice(-(SECRET_LENGTH + CHECKSUM_LENGTH), -CHECKSUM_LENGTH)];
}

/** Every textual form bytes could take in a log line or an item. */
function byteForms(bytes: Uint8Array): string[] {
  const buffer = Buffer.from(bytes);
  return [buffer.toString('hex'), buffer.toString('hex').toUpperCase(), buffer.toString('base64'), buffer.toString('base64url'), JSON.stringify([...buffer]).slice(1, 40)];
}

/** An item as text, binary attributes in every form they could be matched in. */
function itemText(value: unknown): string {
  if (value instanceof Uint8Array) return [...byteForms(value), Buffer.from(value).toString('utf8'), Buffer.from(value).toString('latin1')].join(' ');
  if (value instanceof Set) return [...(value as Set<unknown>)].map(itemText).join(' ');
  if (Array.isArray(value)) return value.map(itemText).join(' ');
  if (typeof value === 'object' && value !== null) return Object.entries(value).map(([k, v]) => `${k}=${itemText(v)}`).join(' ');
  return String(value);
}

describe('no secret at rest or in a log line after a full session', () => {
  let table: ResilienceTable;
  let app: LocalApp;
  let server: Server;
  let baseUrl: string;
  const logs: string[] = [];
  const exchanges: Exchange[] = [];
  const secrets = newLocalSecrets();
  let accountKey = '';
  let ownerKey = '';
  const createdKeys: { label: string; secret: string }[] = [];

  async function send(label: string, method: string, path: string, keys: { account: string; user: string }, body?: unknown): Promise<Exchange> {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        'x-api-key': keys.account,
        'x-api-secret-key': keys.user,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const headers = [...response.headers.entries()].map(([name, value]) => `${name}: ${value}`).join('\n');
    const exchange = { label, status: response.status, text: `${headers}\n\n${await response.text()}` };
    exchanges.push(exchange);
    return exchange;
  }

  beforeAll(async () => {
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'DEBUG');
    captureProcessOutput(logs);

    table = (await createResilienceTable()).clean;
    // The production loggers, as the Lambda functions and `npm start` build them.
    app = createLocalApp({ documentClient: table.client, tableName: table.tableName, secrets, logger: createLogger('latchkey-local') });
    server = createServer({ gateway: app.gateway, logger: createLogger('latchkey-local-server') });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    await ensurePepper(app.store, secrets);
    const created = await createAccount(app.apiDeps, { name: 'Secrets', ownerName: 'Olive', ownerEmail: 'olive@example.com' }, SYSTEM_ACTOR);
    accountKey = created.accountKey;
    ownerKey = created.userKey;
    const owner = { account: accountKey, user: ownerKey };

    // The session: keys created, used, refused, deleted; the account key revealed.
    expect((await send('whoami', 'GET', '/v1/whoami', owner)).status).toBe(200);
    const viewer = JSON.parse((await send('create viewer', 'POST', '/v1/users', owner, { name: 'Vera', email: 'vera@example.com', role: 'viewer' })).text.split('\n\n')[1]!) as { id: string };
    const viewerKeyCreation = await send('create viewer key', 'POST', '/v1/api-keys', owner, { name: 'viewer-session-key', userId: viewer.id });
    expect(viewerKeyCreation.status).toBe(201);
    const viewerKey = JSON.parse(viewerKeyCreation.text.split('\n\n')[1]!) as { id: string; secret: string };
    createdKeys.push({ label: 'create viewer key', secret: viewerKey.secret });
    const asViewer = { account: accountKey, user: viewerKey.secret };
    expect((await send('viewer whoami', 'GET', '/v1/whoami', asViewer)).status).toBe(200);
    expect((await send('viewer lists keys', 'GET', '/v1/api-keys', asViewer)).status).toBe(200);
    expect((await send('viewer may not create', 'POST', '/v1/users', asViewer, { name: 'X', email: 'x@example.com', role: 'owner' })).status).toBe(403);
    expect((await send('allow list', 'POST', `/v1/api-keys/${viewerKey.id}/cidr-allow-list`, owner, { cidr: '127.0.0.0/8' })).status).toBe(201);
    expect((await send('viewer inside its allow list', 'GET', '/v1/account', asViewer)).status).toBe(200);
    expect((await send('reveal', 'GET', '/v1/account/key', owner)).status).toBe(200);
    expect((await send('logs', 'GET', '/v1/logs', owner)).status).toBe(200);

    const spareCreation = await send('create spare key', 'POST', '/v1/api-keys', owner, { name: 'owner-spare-key', userId: created.owner.id });
    const spare = JSON.parse(spareCreation.text.split('\n\n')[1]!) as { id: string; secret: string };
    createdKeys.push({ label: 'create spare key', secret: spare.secret });
    const asSpare = { account: accountKey, user: spare.secret };
    expect((await send('spare used', 'GET', '/v1/users', asSpare)).status).toBe(200);
    // A key sent where it does not belong: in the query string, and in a JSON body.
    expect((await send('key in query', 'GET', `/v1/whoami?x-api-secret-key=${spare.secret}`, owner)).status).toBe(400);
    expect((await send('key in body', 'POST', '/v1/users', owner, { name: spare.secret, email: accountKey, role: 'viewer' })).status).toBe(400);
    expect((await send('delete spare', 'DELETE', `/v1/api-keys/${spare.id}`, owner)).status).toBe(204);
    expect((await send('deleted spare refused', 'GET', '/v1/users', asSpare)).status).toBe(401);
    expect((await send('delete viewer key', 'DELETE', `/v1/api-keys/${viewerKey.id}`, owner)).status).toBe(204);
    expect((await send('deleted viewer key refused', 'GET', '/v1/whoami', asViewer)).status).toBe(401);
    // Keys with one character changed, or swapped between headers.
    const tampered = `${ownerKey.slice(0, -8)}${ownerKey.slice(-8, -7) === 'A' ? 'B' : 'A'}${ownerKey.slice(-7)}`;
    expect((await send('tampered key', 'GET', '/v1/whoami', { account: accountKey, user: tampered })).status).toBe(401);
    expect((await send('swapped keys', 'GET', '/v1/whoami', { account: ownerKey, user: accountKey })).status).toBe(401);
  }, 60_000);

  afterAll(async () => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    await closeServer(server);
  });

  function logLines(): string[] {
    return logs.join('').split('\n').filter((line) => line.trim() !== '');
  }

  it('captured the functions\' and the server\'s log lines at DEBUG level', () => {
    const lines = logLines();
    expect(lines.some((line) => line.includes('"authorization decision"'))).toBe(true);
    // The server's own request lines (the handlers' carry an operationId, not a source address).
    expect(lines.some((line) => line.includes('"message":"request"') && line.includes('"sourceIp":"127.0.0.1"'))).toBe(true);
    expect(lines.some((line) => line.includes('"operationId":"revealAccountKey"'))).toBe(true);
    expect(exchanges.length).toBeGreaterThan(15);
  });

  it('stores no plaintext key, only digests and ciphertext', async () => {
    // Act
    const items = await scanTable(table.client, table.tableName);

    // Assess
    const stored = items.map(itemText).join('\n');
    for (const key of [accountKey, ownerKey, ...createdKeys.map((created) => created.secret)]) {
      for (const form of keyForms(key)) expect(stored).not.toContain(form);
    }
  });

  it('writes no key, digest, ciphertext or pepper to any log line', async () => {
    // Prepare: every digest of every key (with every pepper), every ciphertext and pepper.
    const ring = await app.apiDeps.peppers();
    const keys = [accountKey, ownerKey, ...createdKeys.map((created) => created.secret)];
    const items = await scanTable(table.client, table.tableName);
    const storedBytes = items.flatMap((item) => Object.values(item).filter((value): value is Uint8Array => value instanceof Uint8Array));
    const peppers = await Promise.all(
      items.filter((item) => item.pk === 'CONFIG').map((item) => secrets.decryptPepper(Number(item.version), item.ciphertext as Uint8Array)),
    );
    const forbidden = [
      ...keys.flatMap(keyForms),
      ...keys.flatMap((key) => byteForms(ring.digest(key).hash)),
      ...storedBytes.flatMap(byteForms),
      ...peppers.flatMap(byteForms),
    ];
    expect(storedBytes.length).toBeGreaterThan(3);

    // Assess
    for (const line of logLines()) {
      for (const value of forbidden) expect(line).not.toContain(value);
    }
  });

  it('shows each key only in the response that created it, and the account key in its reveal', () => {
    const carrying = (key: string): string[] => exchanges.filter((exchange) => keyForms(key).some((form) => exchange.text.includes(form))).map((exchange) => exchange.label);

    // The account and its first owner key were created outside HTTP: only the reveal shows one of them.
    expect(carrying(accountKey)).toEqual(['reveal']);
    expect(carrying(ownerKey)).toEqual([]);
    for (const created of createdKeys) expect(carrying(created.secret)).toEqual([created.label]);
  });
});
