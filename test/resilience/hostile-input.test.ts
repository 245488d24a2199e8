import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalApp, type LocalApp } from '#local/process/app.ts';
import type { GatewayResponse } from '#local/gateway/gateway-responses.ts';
import type { Actor } from '#shared/domain/audit.ts';
import { DEFAULT_LIMITS } from '#shared/adapters/environment.ts';
import { UNREACHED_PLAN, UNREACHED_THROTTLE } from '#test/support/unreached-limits.ts';
import { ROLES } from '#shared/domain/roles.ts';
import { ROUTES, type Route } from '#shared/http/routes.ts';
import { createApiKey } from '#shared/services/api-keys.ts';
import { addCidrRule } from '#shared/services/cidr-allow-list.ts';
import { createUser } from '#shared/services/users.ts';
import {
  type ResilienceTable,
  type SeededOwner,
  createResilienceTable,
  expectProblem,
  headerOf,
  newLocalSecrets,
  seedOwner,
} from '#test/support/resilience-app.ts';
import { quietLogger } from '#test/support/fakes/logger.ts';
import { invariantViolations, scanTable } from '#test/support/resilience-table.ts';

/**
 * Every route of the route table, driven through the gateway emulator with a valid owner's keys
 * (so the handlers run) and arbitrary headers, path parameters, query strings and bodies. No
 * request may end in a 500 or 502, every refusal the handlers make is a problem document, and
 * afterwards the table holds no half-written entity.
 *
 * Ids in paths and bodies are drawn from a pool of entities that exist (growing as the run
 * creates more), from well-formed ids that exist nowhere, and from odd strings. The owner whose
 * keys drive the run is never in the pool, so the run cannot lock itself out.
 */

/**
 * Per route. The time limit ends a route's run on a very slow machine, inside the test's 30 s;
 * a machine that cannot make even MIN_RUNS_PER_ROUTE requests in it fails the test.
 */
const RUNS_PER_ROUTE = 70;
const TIME_PER_ROUTE_MS = 15_000;
const MIN_RUNS_PER_ROUTE = 12;

type Pooled = { readonly pool: 'userId' | 'keyId' | 'ruleId'; readonly n: number };
type IdSpec = Pooled | { readonly raw: string; readonly encode: boolean };

interface Pool {
  readonly userId: string[];
  readonly keyId: string[];
  readonly rules: { readonly keyId: string; readonly ruleId: string }[];
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

const oddStrings = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'grapheme-ascii', minLength: 200, maxLength: 3000 }),
  fc.constantFrom(
    '.', '..', '%', '%2F', '%2e%2e', '%00', '%ZZ', '%E0%A4%A', ' ', '\u0000', '\uFEFF', '\uD800', '{keyId}', '*', 'null',
    'undefined', '__proto__', 'constructor', 'KEY#x', 'ACCOUNT#x', 'USER#', '😀😀😀😀😀😀😀😀', 'AAAAAAAAAAAAAAA\u0301',
    'aaaaaaaaaaaaaaaa ', 'ÄAAAAAAAAAAAAAAA', '0000000000000000/..', "'; DROP TABLE x; --", '${7*7}', '<script>',
  ),
);

const idSpec = (pool: Pooled['pool']): fc.Arbitrary<IdSpec> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.nat().map((n): IdSpec => ({ pool, n })) },
    { weight: 2, arbitrary: fc.stringMatching(/^[0-9A-Za-z]{16}$/).map((raw): IdSpec => ({ raw, encode: true })) },
    { weight: 3, arbitrary: fc.record({ raw: oddStrings, encode: fc.boolean() }) },
  );

const cidrs = fc.oneof(
  fc.ipV4(),
  fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([address, prefix]) => `${address}/${prefix}`),
  fc.ipV6(),
  fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })).map(([address, prefix]) => `${address}/${prefix}`),
  fc.ipV4Extended(),
  fc.constantFrom(
    '0.0.0.0/0', '::/0', '::ffff:10.0.0.1', '::ffff:10.0.0.0/104', '010.0.0.1', '10.0.0.1/33', '1.2.3.4/-1', '1.2.3.4/ 8',
    ' 1.2.3.4', 'fe80::1%eth0', '[::1]', '::1.2.3.4', 'localhost', '1.2.3.4/08', '127.1.0.1/24', '10.0.0.0/8/8', '',
  ),
  oddStrings,
);

const junkValues = fc.oneof(
  fc.constant(null),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
  oddStrings,
);

type BodyTemplate = Record<string, unknown>;

/** Bodies that look right for each operation, before mutation; ids in them are resolved against the pool at run time. */
const VALID_LOOKING: Readonly<Record<string, fc.Arbitrary<BodyTemplate>>> = {
  createUser: fc.record({
    name: fc.oneof(fc.string({ maxLength: 120 }), fc.constant('Hostile Input')),
    email: fc.oneof(fc.emailAddress(), fc.string({ maxLength: 60 })),
    role: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ROLES) }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) }),
  }),
  updateUser: fc.record({
    role: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ROLES) }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) }),
  }),
  createApiKey: fc.record({
    name: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{10,50}$/), fc.string({ maxLength: 60 })),
    userId: idSpec('userId'),
  }),
  addCidrRule: fc.record({ cidr: cidrs }),
  updateCidrRule: fc.record({ cidr: cidrs }),
};

type Mutation =
  | { readonly kind: 'none' }
  | { readonly kind: 'add'; readonly field: string; readonly value: unknown }
  | { readonly kind: 'drop'; readonly index: number }
  | { readonly kind: 'retype'; readonly index: number; readonly value: unknown };

const mutations: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 5, arbitrary: fc.constant<Mutation>({ kind: 'none' }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('add' as const), field: fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('__proto__', 'constructor', 'id', 'accountId', 'role', 'secret')), value: junkValues }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), index: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('retype' as const), index: fc.nat(), value: junkValues }) },
);

type BodySpec =
  | { readonly kind: 'none' }
  | { readonly kind: 'template'; readonly template: BodyTemplate; readonly mutation: Mutation }
  | { readonly kind: 'raw'; readonly text: string };

const junkBodies: fc.Arbitrary<BodySpec> = fc
  .oneof(
    fc.string({ maxLength: 200 }),
    fc.json({ maxDepth: 3 }),
    fc.constantFrom(
      '', '{', 'null', '[]', '"x"', '{"__proto__":{"polluted":true}}', '{"constructor":{"prototype":{"polluted":true}}}',
      '{"cidr":"10.0.0.0/8","cidr":"::/0"}', '\uFEFF{"role":"owner"}', `{"name":"${'x'.repeat(17_000)}"}`,
    ),
  )
  .map((text): BodySpec => ({ kind: 'raw', text }));

function bodies(route: Route): fc.Arbitrary<BodySpec> {
  const template = VALID_LOOKING[route.operationId];
  if (template === undefined) {
    return fc.oneof({ weight: 6, arbitrary: fc.constant<BodySpec>({ kind: 'none' }) }, { weight: 1, arbitrary: junkBodies });
  }
  return fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('template' as const), template, mutation: mutations }) },
    { weight: 2, arbitrary: junkBodies },
    { weight: 1, arbitrary: fc.constant<BodySpec>({ kind: 'none' }) },
  );
}

const headerNames = fc.oneof(
  fc.constantFrom(
    'accept', 'x-forwarded-for', 'forwarded', 'x-real-ip', 'content-length', 'transfer-encoding', 'authorization', 'host',
    'x-amzn-trace-id', 'x-http-method-override', 'X-API-KEY', 'x-api-secret-key ', '__proto__', 'constructor', 'cookie',
  ),
  fc.stringMatching(/^[A-Za-z0-9-]{1,30}$/),
);
const headerValues = fc.oneof(fc.string({ maxLength: 100 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('', '127.0.0.1', '0', '-1'));
const contentTypes = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8', 'APPLICATION/JSON', 'text/plain', 'application/json; charset=latin1',
      'application/x-www-form-urlencoded', 'application/json;charset="utf-8"', 'multipart/form-data; boundary=x',
    ),
  },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
);

const queryNames = fc.oneof(fc.constantFrom('limit', 'cursor', 'userId', 'LIMIT', 'limit[]', '__proto__'), fc.string({ maxLength: 10 }));
const queryValues = fc.oneof(
  fc.constantFrom('0', '1', '-1', '50', '100', '101', '1e2', '1.5', 'NaN', 'Infinity', '0x10', ' 7', '', 'null'),
  fc.base64String({ maxLength: 64 }),
  oddStrings,
);
const queries: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: fc.array(fc.tuple(queryNames, queryValues), { maxLength: 4 }).map((pairs) => new URLSearchParams(pairs).toString()) },
  { weight: 1, arbitrary: fc.array(fc.tuple(queryNames, queryValues), { maxLength: 3 }).map((pairs) => pairs.map(([n, v]) => `${n}=${v}`).join('&')) },
  { weight: 1, arbitrary: oddStrings },
);

const pathVariants = fc.oneof(
  { weight: 12, arbitrary: fc.constant((path: string) => path) },
  { weight: 1, arbitrary: fc.constantFrom((p: string) => `${p}/`, (p: string) => p.toUpperCase(), (p: string) => p.replace('/v1/', '//v1/'), (p: string) => `/v1/..${p}`) },
);

const methods = (route: Route): fc.Arbitrary<string> =>
  fc.oneof({ weight: 12, arbitrary: fc.constant<string>(route.method) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', route.method.toLowerCase()) });

function requests(route: Route) {
  const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!);
  const params = fc.record(
    Object.fromEntries(names.map((name) => [name, idSpec(name === 'userId' ? 'userId' : name === 'keyId' ? 'keyId' : 'ruleId')])),
  );
  return fc.record({
    method: methods(route),
    params,
    pathVariant: pathVariants,
    query: queries,
    headers: fc.dictionary(headerNames, fc.oneof(headerValues, fc.array(headerValues, { minLength: 1, maxLength: 3 })), { maxKeys: 5 }),
    contentType: contentTypes,
    body: bodies(route),
  });
}

// ---------------------------------------------------------------------------------------------
// Resolving a generated request against the pool

function pick<T>(list: readonly T[], n: number): T | undefined {
  return list.length === 0 ? undefined : list[n % list.length];
}

function resolveId(spec: IdSpec, pool: Pool): string {
  if ('raw' in spec) return spec.raw;
  if (spec.pool === 'userId') return pick(pool.userId, spec.n) ?? '0000000000000000';
  if (spec.pool === 'keyId') return pick(pool.keyId, spec.n) ?? '0000000000000000';
  return pick(pool.rules, spec.n)?.ruleId ?? '0000000000000000';
}

/** A lone surrogate cannot be percent-encoded: it is sent as it is. */
function encodeLeniently(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return value;
  }
}

function resolvePath(route: Route, params: Readonly<Record<string, IdSpec>>, pool: Pool): string {
  const ruleSpec = params.ruleId;
  // An existing rule is addressed under its own key when the key is drawn from the pool too.
  const pair = ruleSpec !== undefined && !('raw' in ruleSpec) ? pick(pool.rules, ruleSpec.n) : undefined;
  return route.path.replace(/\{(\w+)\}/g, (_match, name: string) => {
    const spec = params[name]!;
    if (name === 'keyId' && pair !== undefined && !('raw' in spec)) return pair.keyId;
    const value = resolveId(spec, pool);
    return 'raw' in spec && !spec.encode ? value : encodeLeniently(value);
  });
}

function resolveBody(spec: BodySpec, pool: Pool): string | undefined {
  switch (spec.kind) {
    case 'none':
      return undefined;
    case 'raw':
      return spec.text;
    case 'template': {
      const fields = new Map<string, unknown>(
        Object.entries(spec.template).map(([name, value]) => [
          name,
          typeof value === 'object' && value !== null && ('pool' in value || 'raw' in value) ? resolveId(value as IdSpec, pool) : value,
        ]),
      );
      const names = [...fields.keys()];
      const { mutation } = spec;
      if (mutation.kind === 'add') fields.set(mutation.field, mutation.value);
      if (mutation.kind === 'drop') fields.delete(names[mutation.index % names.length]!);
      if (mutation.kind === 'retype') fields.set(names[mutation.index % names.length]!, mutation.value);
      // fromEntries defines own properties: a '__proto__' field is sent as a field.
      return JSON.stringify(Object.fromEntries(fields));
    }
  }
}

/** Ids of what a successful request created join the pool, so later requests act on them. */
function grow(pool: Pool, route: Route, path: string, response: GatewayResponse): void {
  if (response.status !== 201) return;
  const created = JSON.parse(response.body) as { id?: unknown };
  if (typeof created.id !== 'string') return;
  if (route.operationId === 'createUser') pool.userId.push(created.id);
  if (route.operationId === 'createApiKey') pool.keyId.push(created.id);
  if (route.operationId === 'addCidrRule') {
    // Only a pooled or well-formed key id can have taken a rule: it was sent encoded or as it is.
    const keyId = path.split('/')[3] ?? '';
    if (/^[0-9A-Za-z]{16}$/.test(keyId)) pool.rules.push({ keyId, ruleId: created.id });
  }
}

// ---------------------------------------------------------------------------------------------

describe('hostile input on every route', () => {
  let table: ResilienceTable;
  let app: LocalApp;
  let owner: SeededOwner;
  const pool: Pool = { userId: [], keyId: [], rules: [] };
  const tried = new Map<string, { requests: number; byHandler: number }>();

  beforeAll(async () => {
    table = (await createResilienceTable()).clean;
    // Hundreds of requests of one account: limits they never reach, so that every answer is about the input.
    app = createLocalApp({
      documentClient: table.client,
      tableName: table.tableName,
      secrets: newLocalSecrets(),
      logger: quietLogger(),
      defaultPlan: UNREACHED_PLAN,
      publicRouteThrottle: UNREACHED_THROTTLE,
    });
    owner = await seedOwner(app.apiDeps, app.store);
    const actor: Actor = { userId: owner.userId, keyId: owner.keyId, sourceIp: null };
    for (const role of ['viewer', 'logs-viewer', 'member'] as const) {
      const user = await createUser(app.apiDeps, owner.accountId, { name: role, email: `${role}@example.com`, role }, actor);
      pool.userId.push(user.id);
      if (role === 'member') continue;
      for (const n of [1, 2]) {
        const { key } = await createApiKey(app.apiDeps, owner.accountId, { name: `${role}-pooled-key-${n}`, userId: user.id }, actor);
        pool.keyId.push(key.id);
        for (const cidr of [`10.${n}.0.0/16`, `2001:db8:${n}::/48`]) {
          pool.rules.push({ keyId: key.id, ruleId: (await addCidrRule(app.apiDeps, owner.accountId, key.id, cidr, actor)).id });
        }
      }
    }
  });

  afterAll(() => {
    const total = [...tried.values()].reduce((sum, counts) => sum + counts.requests, 0);
    const handled = [...tried.values()].reduce((sum, counts) => sum + counts.byHandler, 0);
    console.log(`hostile input: ${total} requests over ${tried.size} routes (${handled} answered by the handlers)`);
  });

  it.each(ROUTES.map((route) => ({ ...route })))('$operationId ($method $path): no 5xx, every refusal a problem document', { timeout: 30_000 }, async (route) => {
    // Prepare
    const counts = { requests: 0, byHandler: 0 };
    tried.set(route.operationId, counts);

    // Act and assess, per generated request
    await fc.assert(
      fc.asyncProperty(requests(route), async (generated) => {
        const path = generated.pathVariant(resolvePath(route, generated.params, pool));
        const headers: Record<string, string | readonly string[]> = { ...generated.headers };
        if (generated.contentType !== undefined) headers['content-type'] = generated.contentType;
        Object.assign(headers, owner.headers);
        const response = await app.gateway.handle({
          method: generated.method,
          path,
          query: generated.query,
          headers,
          body: resolveBody(generated.body, pool),
          sourceIp: '198.51.100.10',
        });
        counts.requests += 1;
        expect(response.status, response.body).toBeLessThan(500);
        const fromGateway = headerOf(response.headers, 'x-amzn-errortype') !== undefined;
        if (!fromGateway) counts.byHandler += 1;
        // API Gateway's own refusals (a path with dot segments or encoded slashes, unknown route,
        // duplicated key header, oversized body) keep its format.
        if (fromGateway) expect([400, 401, 403, 413]).toContain(response.status);
        else if (response.status >= 400) expectProblem(response);
        grow(pool, route, path, response);
      }),
      { numRuns: RUNS_PER_ROUTE, plugins: [fc.interruptAfterTimeLimit(TIME_PER_ROUTE_MS)] },
    );

    // Assess: the route was really exercised, by its handler, not only refused at the gateway.
    expect(counts.requests).toBeGreaterThanOrEqual(MIN_RUNS_PER_ROUTE);
    expect(counts.byHandler).toBeGreaterThan(0);
  });

  it.each(['constructor', '__proto__', 'valueOf', 'toString', 'hasOwnProperty'])(
    "a header or query parameter named '%s' is just a name, never a 5xx",
    async (name) => {
      // Act
      const responses = await Promise.all([
        app.gateway.handle({ method: 'GET', path: '/v1/whoami', headers: { ...owner.headers, [name]: 'x' }, sourceIp: '198.51.100.10' }),
        app.gateway.handle({ method: 'GET', path: '/v1/whoami', headers: { ...owner.headers, [name]: ['x', 'y'] }, sourceIp: '198.51.100.10' }),
        app.gateway.handle({ method: 'GET', path: '/v1/api-keys', query: `${name}=x`, headers: owner.headers, sourceIp: '198.51.100.10' }),
        app.gateway.handle({ method: 'GET', path: '/v1/logs', query: `limit=5&${name}=x&${name}=y`, headers: owner.headers, sourceIp: '198.51.100.10' }),
      ]);

      // Assess: the headers are ignored, the unknown query parameters refused as such.
      expect(responses.map((response) => response.status)).toEqual([200, 200, 400, 400]);
      for (const refused of responses.slice(2)) expectProblem(refused);
    },
  );

  it('leaves no half-written entity in the table', async () => {
    // Act
    const items = await scanTable(table.client, table.tableName);

    // Assess
    expect(invariantViolations(items, DEFAULT_LIMITS)).toEqual([]);
    // The owner driving the run is still there with its key: the run never locked itself out.
    const whoami = await app.gateway.handle({ method: 'GET', path: '/v1/whoami', headers: owner.headers, sourceIp: '198.51.100.10' });
    expect(whoami.status).toBe(200);
  });
});
