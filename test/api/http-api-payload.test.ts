import { generateKeyPairSync, sign } from 'node:crypto';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GITHUB_KEYS_URL_ENV } from '#shared/adapters/github-keys.ts';
import { VALID_UNTIL_CONTEXT } from '#shared/authorization/context-entries.ts';
import { newId } from '#shared/domain/ids.ts';
import type { OperationId } from '#shared/http/routes.ts';
import { type ApiCall, type ApiTestBed, apiEvent, createApiTestBed, lambdaContext, openApiViolations, routeOf } from '#test/support/api-events.ts';
import { type KeyEndpoint, serveGitHubKeys } from '#test/support/fakes/github-keys-endpoint.ts';
import { httpApiEventOf } from '#test/support/http-api-events.ts';
import type { ProxyEventV2 } from '#functions/commons/proxy-event.ts';

/**
 * The management handlers on HTTP API's payload format 2.0 (DESIGN 15): the same requests the
 * other suites send as REST's 1.0, sent as HTTP API sends them, answer the same, every response
 * checked against openapi.json. Refusals that rest on the event (a missing or lapsed principal,
 * a parameter given twice, a body altered after GitHub signed it) hold in 2.0 too.
 */

const GITHUB = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const GITHUB_KEY_ID = 'bcb53661c06b4728e59d897fb6165d5c9cda0fd9cdf9d09ead458168deb7518c';

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly json: Record<string, unknown>;
}

let endpoint: KeyEndpoint;
let bed: ApiTestBed;

beforeAll(async () => {
  endpoint = await serveGitHubKeys({ [GITHUB_KEY_ID]: GITHUB.publicKey });
  vi.stubEnv(GITHUB_KEYS_URL_ENV, endpoint.url);
  try {
    bed = await createApiTestBed();
  } finally {
    vi.unstubAllEnvs();
  }
});

afterAll(async () => {
  await endpoint.close();
});

async function send(operationId: OperationId, event: ProxyEventV2): Promise<Answer> {
  const result: APIGatewayProxyResult = await bed.handlers[routeOf(operationId).group](event, lambdaContext());
  const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
  const violations = openApiViolations(operationId, { status: result.statusCode, headers, body: result.body });
  if (violations.length > 0) throw new Error(`response does not conform to openapi.json:\n${violations.join('\n')}\n${result.body}`);
  const body: unknown = result.body === '' ? undefined : JSON.parse(result.body);
  return { status: result.statusCode, body, json: (body ?? {}) as Record<string, unknown> };
}

/** The request as HTTP API sends it, from the owner (or `principal`) unless the route is public. */
function call(operationId: OperationId, request: ApiCall = {}, options: { stage?: string; anonymous?: boolean } = {}): Promise<Answer> {
  const principal = routeOf(operationId).public === true || options.anonymous === true ? null : bed.owner;
  return send(operationId, httpApiEventOf(apiEvent(operationId, principal, request), options.stage));
}

describe('the management API on HTTP API payload 2.0', () => {
  it('answers whoami with the principal from requestContext.authorizer.lambda and the connection\'s address', async () => {
    // Act
    const answer = await call('whoami', { sourceIp: '203.0.113.9', headers: { 'X-Forwarded-For': '10.1.2.3' } });

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ ...bed.owner, sourceIp: '203.0.113.9' });
  });

  it('answers 401 to a route behind the authorizer when the event carries no authorizer context', async () => {
    // Act
    const answer = await call('whoami', {}, { anonymous: true });

    // Assess
    expect(answer.status).toBe(401);
  });

  it('answers 401 once the Allow\'s deadline in the 2.0 context has passed', async () => {
    // Prepare
    const event = httpApiEventOf(apiEvent('whoami', bed.owner));
    const lambda = event.requestContext.authorizer?.lambda as Record<string, unknown>;
    lambda[VALID_UNTIL_CONTEXT] = new Date(Date.now() - 1000).toISOString();

    // Act
    const answer = await send('whoami', event);

    // Assess
    expect(answer.status).toBe(401);
  });

  it('reads the query string, and refuses a parameter given twice as on REST', async () => {
    // Prepare
    const once = httpApiEventOf(apiEvent('listApiKeys', bed.owner, { query: { limit: '1' } }));
    const twice = httpApiEventOf(apiEvent('listApiKeys', bed.owner));
    twice.rawQueryString = 'limit=1&limit=2';
    twice.queryStringParameters = { limit: '1,2' };

    // Act
    const listed = await send('listApiKeys', once);
    const refused = await send('listApiKeys', twice);

    // Assess
    expect(listed.status).toBe(200);
    expect((listed.json.items as unknown[]).length).toBeLessThanOrEqual(1);
    expect(refused.status).toBe(400);
    expect(refused.json.errors).toEqual([expect.objectContaining({ field: 'limit', rule: 'single' })]);
  });

  it('reads a JSON body sent as is and one HTTP API base64-encoded alike', async () => {
    // Prepare
    const user = (await call('createUser', { body: { name: 'Payload Two', email: 'two@example.com', role: 'viewer' } })).json;
    const plain = httpApiEventOf(apiEvent('createApiKey', bed.owner, { body: { name: 'payload-two-plain', userId: user.id } }));
    const encoded = httpApiEventOf(apiEvent('createApiKey', bed.owner, { body: { name: 'payload-two-base64', userId: user.id } }));
    encoded.body = Buffer.from(encoded.body ?? '', 'utf8').toString('base64');
    encoded.isBase64Encoded = true;

    // Act
    const answers = [await send('createApiKey', plain), await send('createApiKey', encoded)];

    // Assess
    expect(answers.map((a) => [a.status, a.json.name])).toEqual([
      [201, 'payload-two-plain'],
      [201, 'payload-two-base64'],
    ]);
  });

  it('reads path parameters and names the path below a named stage in a problem\'s instance', async () => {
    // Prepare
    const missing = newId();

    // Act
    const answer = await call('getApiKey', { params: { keyId: missing } }, { stage: 'prod' });

    // Assess
    expect(answer.status).toBe(404);
    expect(answer.json.instance).toBe(`/v1/api-keys/${missing}`);
  });

  it('takes a leak report on the public route, which no authorizer guards', async () => {
    // Act
    const answer = await call('reportLeakedKeys', { body: { keys: [`lks_${'A'.repeat(81)}`] } });

    // Assess
    expect(answer.status).toBe(202);
  });

  describe('GitHub\'s alert route', () => {
    // Spacing and non-ASCII kept: the signature covers these bytes exactly.
    const body = `[ {"token": "lks_${'B'.repeat(81)}", "type": "latchkey_user_key", "url": "https://github.com/octo/répo", "source": "content"} ]`;
    const signed = (sent: string, encoded: boolean): ProxyEventV2 => {
      const event = httpApiEventOf(
        apiEvent('reportGitHubAlerts', null, {
          rawBody: sent,
          headers: {
            'Content-Type': 'application/json',
            'Github-Public-Key-Identifier': GITHUB_KEY_ID,
            'Github-Public-Key-Signature': sign('sha256', Buffer.from(body, 'utf8'), GITHUB.privateKey).toString('base64'),
          },
        }),
      );
      if (encoded) {
        event.body = Buffer.from(sent, 'utf8').toString('base64');
        event.isBase64Encoded = true;
      }
      return event;
    };

    it.each([
      ['as is', false],
      ['base64-encoded by HTTP API', true],
    ])('checks the signature over the body\'s own bytes, sent %s', async (_how, encoded) => {
      // Act
      const answer = await send('reportGitHubAlerts', signed(body, encoded));

      // Assess
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual([expect.objectContaining({ token_type: 'latchkey_user_key', label: 'false_positive' })]);
    });

    it.each([
      ['as is', false],
      ['base64-encoded by HTTP API', true],
    ])('refuses a body altered after it was signed, sent %s (401)', async (_how, encoded) => {
      // Act
      const answer = await send('reportGitHubAlerts', signed(body.replace('répo', 'repo'), encoded));

      // Assess
      expect(answer.status).toBe(401);
    });
  });
});
