import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiHandler } from '#functions/operations/all-groups.ts';
import type { ApiDeps } from '#shared/ports/deps.ts';
import type { Store } from '#shared/ports/store.ts';
import { type ApiTestBed, apiEvent, createApiTestBed, lambdaContext, openApiViolations } from '#test/support/api-events.ts';
import { captureProcessOutput } from '#test/support/output-capture.ts';

let bed: ApiTestBed;

beforeAll(async () => {
  bed = await createApiTestBed();
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Everything the handler writes to stdout/stderr while `act` runs, as parsed JSON lines. */
async function capturedLogs<T>(act: () => Promise<T>): Promise<{ result: T; lines: Record<string, unknown>[]; text: string }> {
  const chunks: string[] = [];
  captureProcessOutput(chunks);
  try {
    const result = await act();
    const text = chunks.join('');
    const lines = text
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    return { result, lines, text };
  } finally {
    vi.restoreAllMocks();
  }
}

function withStore(overrides: Partial<Store>, extra: Partial<ApiDeps> = {}): ApiDeps {
  const store = bed.deps.store;
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      if (typeof property === 'string' && property in overrides) return overrides[property as keyof Store];
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { ...bed.deps, store: proxy, ...extra };
}

const validUser = { name: 'Body Test', email: 'body@example.com', role: 'viewer' };

describe('request bodies', () => {
  it.each([
    ['text/plain', 415],
    ['application/x-www-form-urlencoded', 415],
    ['application/json; charset=iso-8859-1', 415],
    ['application/json; charset=utf-8', 201],
    ['Application/JSON', 201],
  ])('with Content-Type %s answers %i', async (contentType, status) => {
    // Act
    const response = await bed.call('createUser', bed.owner, { rawBody: JSON.stringify(validUser), headers: { 'CONTENT-TYPE': contentType } });

    // Assess
    expect(response.status).toBe(status);
  });

  it('answers 415 for a body without a content type', async () => {
    // Act
    const response = await bed.call('createUser', bed.owner, { rawBody: JSON.stringify(validUser) });

    // Assess
    expect(response.status).toBe(415);
    expect(response.json.type).toBe('urn:latchkey:problem:unsupported-media-type');
  });

  it('answers 413 for a body over 16 KiB, before parsing it', async () => {
    // Prepare: not even JSON, so only the size can explain the answer
    const rawBody = `{${'x'.repeat(16 * 1024)}`;

    // Act
    const response = await bed.call('createUser', bed.owner, { rawBody, headers: { 'content-type': 'application/json' } });

    // Assess
    expect(response.status).toBe(413);
  });

  it('takes a body of exactly 16 KiB to the parser', async () => {
    // Prepare
    const padding = 'x'.repeat(16 * 1024 - JSON.stringify({ ...validUser, pad: '' }).length);
    const rawBody = JSON.stringify({ ...validUser, pad: padding });

    // Act
    const response = await bed.call('createUser', bed.owner, { rawBody, headers: { 'content-type': 'application/json' } });

    // Assess
    expect(Buffer.byteLength(rawBody)).toBe(16 * 1024);
    expect(response.status).toBe(400);
    expect(response.json.errors).toEqual([expect.objectContaining({ field: 'pad', rule: 'unknown-field' })]);
  });

  it('answers 400 for malformed JSON', async () => {
    // Act
    const response = await bed.call('createUser', bed.owner, { rawBody: '{"name": "x",', headers: { 'content-type': 'application/json' } });

    // Assess
    expect(response.status).toBe(400);
    expect(response.json.type).toBe('urn:latchkey:problem:malformed-json');
  });

  it('answers 400 for a missing body and for JSON that is not an object', async () => {
    // Act
    const missing = await bed.call('createUser', bed.owner, {});
    const array = await bed.call('createUser', bed.owner, { body: [validUser] });

    // Assess
    expect(missing.status).toBe(400);
    expect(missing.json.errors).toEqual([expect.objectContaining({ field: 'body', rule: 'required' })]);
    expect(array.status).toBe(400);
    expect(array.json.errors).toEqual([expect.objectContaining({ field: 'body', rule: 'type' })]);
  });

  it('reads a base64-encoded body', async () => {
    // Prepare
    const event = apiEvent('createUser', bed.owner, { body: validUser });
    event.body = Buffer.from(event.body ?? '').toString('base64');
    event.isBase64Encoded = true;

    // Act
    const response = await bed.invoke('createUser', event);

    // Assess
    expect(response.status).toBe(201);
  });
});

describe('query strings', () => {
  it('refuses a parameter the route does not take', async () => {
    // Act
    const response = await bed.call('listUsers', bed.owner, { query: { role: 'owner' } });

    // Assess
    expect(response.status).toBe(400);
    expect(response.json.errors).toEqual([expect.objectContaining({ field: 'role', rule: 'unknown-field' })]);
  });

  it('refuses a parameter given twice', async () => {
    // Prepare
    const event = apiEvent('listEvents', bed.owner, { query: { limit: '5' } });
    event.multiValueQueryStringParameters = { limit: ['5', '50'] };

    // Act
    const response = await bed.invoke('listEvents', event);

    // Assess
    expect(response.status).toBe(400);
  });
});

describe('faults', () => {
  it('answer a generic 500 without internals, and log the error with the request id', async () => {
    // Prepare
    const logger = new Logger({ serviceName: 'latchkey-test' });
    const handler = createApiHandler(
      'users',
      withStore({ listUsers: () => Promise.reject(new Error('ResourceNotFoundException: table latchkey-secret-name')) }, { logger }),
    );
    const event = apiEvent('listUsers', bed.owner);

    // Act
    const { result, lines } = await capturedLogs(() => handler(event, lambdaContext()));

    // Assess
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toContain('latchkey-secret-name');
    expect(result.body).not.toContain('ResourceNotFound');
    expect(JSON.parse(result.body)).toMatchObject({ type: 'urn:latchkey:problem:internal', status: 500, requestId: event.requestContext.requestId });
    expect(openApiViolations('listUsers', { status: result.statusCode, headers: result.headers ?? {}, body: result.body })).toEqual([]);
    const errorLine = lines.find((l) => l.level === 'ERROR');
    expect(errorLine).toMatchObject({ requestId: event.requestContext.requestId, operationId: 'listUsers' });
    expect(JSON.stringify(errorLine)).toContain('latchkey-secret-name');
  });

  it('never send a response that breaks its schema', async () => {
    // Prepare
    const handler = createApiHandler(
      'users',
      withStore({
        listUsers: () => Promise.resolve([{ id: bed.owner.userId, accountId: bed.owner.accountId, name: 'x', email: 'x@example.com', role: 'owner', createdAt: 'yesterday' }]),
      }),
    );

    // Act
    const result = await handler(apiEvent('listUsers', bed.owner), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toContain('yesterday');
  });
});

describe('request logs', () => {
  it('write one line per request with ids and outcome, and never a secret', async () => {
    // Prepare
    const logger = new Logger({ serviceName: 'latchkey-test' });
    const handler = createApiHandler('api-keys', { ...bed.deps, logger });
    const event = apiEvent('createApiKey', bed.owner, { body: { name: 'logged-key-name', userId: bed.owner.userId } });

    // Act
    const { result, lines, text } = await capturedLogs(() => handler(event, lambdaContext()));

    // Assess
    expect(result.statusCode).toBe(201);
    const secret = (JSON.parse(result.body) as { secret: string }).secret;
    expect(text).not.toContain(secret);
    const requestLines = lines.filter((l) => l.message === 'request');
    expect(requestLines).toHaveLength(1);
    expect(requestLines[0]).toMatchObject({
      requestId: event.requestContext.requestId,
      operationId: 'createApiKey',
      accountId: bed.owner.accountId,
      status: 201,
      outcome: 'success',
    });
  });

  it('never contain the revealed account key', async () => {
    // Prepare
    const logger = new Logger({ serviceName: 'latchkey-test', logLevel: 'DEBUG' });
    const handler = createApiHandler('account', { ...bed.deps, logger });

    // Act
    const { result, text } = await capturedLogs(() => handler(apiEvent('revealAccountKey', bed.owner), lambdaContext()));

    // Assess
    expect(result.body).toContain(bed.account.accountKey);
    expect(text).not.toContain(bed.account.accountKey);
    expect(text).toContain('revealAccountKey');
  });
});

describe('key use', () => {
  it('is recorded after a successful request, at most once a minute per key', async () => {
    // Prepare
    let now = new Date('2030-01-01T00:00:00.000Z');
    const recorded: string[] = [];
    const deps = withStore(
      {
        recordKeyUse: async (accountId, keyId, at) => {
          recorded.push(at);
          await bed.deps.store.recordKeyUse(accountId, keyId, at);
        },
      },
      { now: () => now },
    );
    const handler = createApiHandler('whoami', deps);
    const call = () => handler(apiEvent('whoami', bed.owner), lambdaContext());

    // Act
    await call();
    now = new Date('2030-01-01T00:00:59.000Z');
    await call();
    now = new Date('2030-01-01T00:01:00.000Z');
    await call();

    // Assess
    expect(recorded).toEqual(['2030-01-01T00:00:00.000Z', '2030-01-01T00:01:00.000Z']);
    const key = await bed.call('getApiKey', bed.owner, { params: { keyId: bed.owner.keyId } });
    expect(key.json.lastUsedAt).toBe('2030-01-01T00:01:00.000Z');
  });

  it('is not recorded for a refused request', async () => {
    // Prepare
    const recorded: string[] = [];
    const handler = createApiHandler('users', withStore({ recordKeyUse: (_a, _k, at) => Promise.resolve(void recorded.push(at)) }));

    // Act
    const result = await handler(apiEvent('createUser', bed.owner, { body: { name: 'x' } }), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(400);
    expect(recorded).toEqual([]);
  });

  it('never fails the request when it cannot be recorded', async () => {
    // Prepare
    const handler = createApiHandler('whoami', withStore({ recordKeyUse: () => Promise.reject(new Error('throttled')) }));

    // Act
    const result = await handler(apiEvent('whoami', bed.owner), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(200);
  });
});

describe('routing', () => {
  it("answers 404 for a route of another function's group", async () => {
    // Prepare: the users function receiving an api-keys route (a wiring mistake)
    const handler = bed.handlers.users;

    // Act
    const result = await handler(apiEvent('listApiKeys', bed.owner), lambdaContext());

    // Assess
    expect(result.statusCode).toBe(404);
  });
});
