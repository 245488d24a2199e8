import { randomBytes } from 'node:crypto';
import { createAuthorizerHandler } from '#functions/authorizer.ts';
import { createApiHandler } from '#functions/operations/all-groups.ts';
import { createTable } from '#shared/adapters/create-table.ts';
import { LocalSecrets } from '#local/storage/local-secrets.ts';
import { SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import { ensurePepper } from '#shared/authorization/peppers.ts';
import { createAccount } from '#shared/services/accounts.ts';
import { FUNCTION_GROUPS, type FunctionGroup } from '#shared/http/routes.ts';
import { createLocalApp } from '#local/process/app.ts';
import { LocalAuthorizerCache } from '#local/gateway/authorizer-cache.ts';
import { createGateway, type ProxyHandler } from '#local/gateway/gateway.ts';
import { countedDynamoDb } from './call-counters.ts';
import { BENCH_SOURCE_IP, withStdoutDiscarded } from './fixtures.ts';
import type { Figure } from './report.ts';
import { type LatencySummary, summarize } from './stats.ts';

const GROUP = '6 cost';
const REQUESTS = 1_000;
const WARMUP = 100;

/**
 * List prices, us-east-1, on-demand, without free tier. Inputs, not results: check them
 * against the current price pages before relying on the totals.
 */
export const PRICES = {
  region: 'us-east-1',
  /** API Gateway REST API, per million requests (first 333 million a month). */
  apiGatewayRestPerMillion: 3.5,
  /** Lambda, per million invocations. */
  lambdaPerMillionRequests: 0.2,
  /** Lambda on Arm (Graviton), per GB-second (first 7.5 billion GB-s a month). */
  lambdaArmPerGbSecond: 0.0000133334,
  /** DynamoDB on-demand, per million read request units. */
  dynamoDbPerMillionReadUnits: 0.125,
  /** DynamoDB on-demand, per million write request units. */
  dynamoDbPerMillionWriteUnits: 0.625,
  /** KMS, per 10,000 requests (Decrypt). */
  kmsPer10kRequests: 0.03,
  /** CloudWatch Logs, per GB ingested (standard class). */
  logsPerGbIngested: 0.5,
  /** AWS WAF: per web ACL a month, per rule (or managed rule group) a month, per million requests inspected (up to 1,500 WCU). */
  wafWebAclPerMonth: 5,
  wafRulePerMonth: 1,
  wafPerMillionRequests: 0.6,
} as const;

/**
 * The stack's web ACL: the rate rule per source address, the leak route's rate rule per address,
 * the two request-shape rules (infra/constructs/request-shape-rules.ts) and three AWS managed
 * rule groups (infra/constructs/usage-limits.ts).
 */
export const WAF_RULES = 7;

/** The memory of the authorizer and of every handler function (infra/stateless-stack.ts). */
export const LAMBDA_MEMORY_MB = 512;
export const HIT_RATES = [0, 0.5, 0.9, 0.99] as const;

export interface FunctionCosts {
  readonly authorizer: { readonly durationMs: LatencySummary; readonly readUnits: number; readonly writeUnits: number };
  readonly whoami: { readonly durationMs: LatencySummary; readonly readUnits: number; readonly writeUnits: number };
  /** Application log bytes written per request by both functions (the runtime's own lines not included). */
  readonly logBytesPerRequest: number;
}

export interface CostLine {
  readonly hitRate: number;
  readonly apiGateway: number;
  readonly lambdaRequests: number;
  readonly lambdaDuration: number;
  readonly dynamoDb: number;
  /** WAF's per-request price (the web ACL and its rules cost a fixed amount a month besides). */
  readonly waf: number;
  readonly total: number;
}

export interface CostResult {
  readonly figures: readonly Figure[];
  readonly details: {
    readonly prices: typeof PRICES;
    readonly memoryMb: number;
    readonly measured: FunctionCosts;
    readonly billedMs: { readonly authorizer: number; readonly whoami: number };
    readonly perMillion: readonly CostLine[];
  };
}

/**
 * Times each function as the gateway emulator invokes it, with the authorizer cache off so
 * every request runs both, against DynamoDB Local; DynamoDB's consumed capacity is what the
 * table reports for the same requests.
 */
export async function measureFunctionCosts(endpoint: string): Promise<FunctionCosts> {
  const tableName = 'latchkey-bench-cost';
  const db = countedDynamoDb(endpoint, { consumedCapacity: true });
  try {
    await createTable(db.raw, tableName);
    const secrets = new LocalSecrets(randomBytes(32));
    const app = createLocalApp({ documentClient: db.documentClient, tableName, secrets, authorizerTtlSeconds: 0 });
    await ensurePepper(app.store, secrets);
    const created = await createAccount(app.apiDeps, { name: 'bench cost', ownerName: 'Bench Owner', ownerEmail: 'owner@example.com' }, SYSTEM_ACTOR);
    await app.apiDeps.peppers();

    const timings = { authorizer: [] as bigint[], whoami: [] as bigint[] };
    const units = { authorizer: { read: 0, write: 0 }, whoami: { read: 0, write: 0 } };
    let recording = false;
    const capacity = (): { read: number; write: number } => {
      const snapshot = db.capacityUnits.snapshot();
      let read = 0;
      let write = 0;
      for (const [operation, value] of Object.entries(snapshot)) {
        if (/^(Get|BatchGet|Query|Scan|TransactGet)/.test(operation)) read += value;
        else write += value;
      }
      return { read, write };
    };
    const timed = <A extends unknown[], R>(name: 'authorizer' | 'whoami', run: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        db.capacityUnits.reset();
        const t0 = process.hrtime.bigint();
        try {
          return await run(...args);
        } finally {
          const elapsed = process.hrtime.bigint() - t0;
          if (recording) {
            timings[name].push(elapsed);
            const used = capacity();
            units[name].read += used.read;
            units[name].write += used.write;
          }
        }
      };
    const handlers = Object.fromEntries(
      FUNCTION_GROUPS.map((group) => {
        const handler: ProxyHandler = createApiHandler(group, app.apiDeps);
        return [group, group === 'whoami' ? timed('whoami', handler) : handler];
      }),
    ) as Record<FunctionGroup, ProxyHandler>;
    const gateway = createGateway({
      authorizer: timed('authorizer', createAuthorizerHandler(app.authorizerDeps)),
      handlers,
      authorizerCache: new LocalAuthorizerCache(0),
    });
    const request = {
      method: 'GET',
      path: '/v1/whoami',
      headers: { 'x-api-key': created.accountKey, 'x-api-secret-key': created.userKey },
      sourceIp: BENCH_SOURCE_IP,
    };

    const started = { wall: 0n };
    let logBytes = 0;
    await withStdoutDiscarded(async () => {
      for (let i = 0; i < WARMUP; i += 1) await gateway.handle(request);
      recording = true;
      logBytes = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < REQUESTS; i += 1) {
        const response = await gateway.handle(request);
        if (response.status !== 200) throw new Error(`whoami answered ${String(response.status)}`);
      }
      started.wall = process.hrtime.bigint() - t0;
    }, (bytes) => {
      logBytes += bytes;
    });
    return {
      authorizer: { durationMs: summarize(timings.authorizer, started.wall), readUnits: units.authorizer.read / REQUESTS, writeUnits: units.authorizer.write / REQUESTS },
      whoami: { durationMs: summarize(timings.whoami, started.wall), readUnits: units.whoami.read / REQUESTS, writeUnits: units.whoami.write / REQUESTS },
      logBytesPerRequest: logBytes / REQUESTS,
    };
  } finally {
    db.raw.destroy();
  }
}

/** Lambda bills each invocation's duration rounded up to the next millisecond. */
function billedMs(durationUs: number): number {
  return Math.max(1, Math.ceil(durationUs / 1000));
}

/**
 * Cost of one million `GET /v1/whoami` requests for a given authorizer cache hit rate: every
 * request is one API Gateway request and one handler invocation; a miss adds an authorizer
 * invocation and its read. Cold starts (one KMS Decrypt each) are left out: per container,
 * not per request.
 */
export function costPerMillion(measured: FunctionCosts, hitRate: number): CostLine {
  const misses = 1 - hitRate;
  const gbSeconds = (ms: number): number => (ms / 1000) * (LAMBDA_MEMORY_MB / 1024);
  const apiGateway = PRICES.apiGatewayRestPerMillion;
  const lambdaRequests = PRICES.lambdaPerMillionRequests * (1 + misses);
  const lambdaDuration =
    1e6 * PRICES.lambdaArmPerGbSecond * (gbSeconds(billedMs(measured.whoami.durationMs.medianUs)) + misses * gbSeconds(billedMs(measured.authorizer.durationMs.medianUs)));
  const readUnits = measured.whoami.readUnits + misses * measured.authorizer.readUnits;
  const writeUnits = measured.whoami.writeUnits + misses * measured.authorizer.writeUnits;
  const dynamoDb = readUnits * PRICES.dynamoDbPerMillionReadUnits + writeUnits * PRICES.dynamoDbPerMillionWriteUnits;
  const waf = PRICES.wafPerMillionRequests;
  return { hitRate, apiGateway, lambdaRequests, lambdaDuration, dynamoDb, waf, total: apiGateway + lambdaRequests + lambdaDuration + dynamoDb + waf };
}

export async function benchCost(endpoint: string): Promise<CostResult> {
  const measured = await measureFunctionCosts(endpoint);
  const perMillion = HIT_RATES.map((rate) => costPerMillion(measured, rate));
  const inputs = `${String(REQUESTS)} GET /v1/whoami through the gateway emulator, cache off, DynamoDB Local; each function timed around its invocation`;
  const figures: Figure[] = [
    { group: GROUP, name: 'authorizer duration, median', value: measured.authorizer.durationMs.medianUs / 1000, unit: 'ms', method: `${inputs}; p99 ${(measured.authorizer.durationMs.p99Us / 1000).toFixed(2)} ms` },
    { group: GROUP, name: 'whoami handler duration, median', value: measured.whoami.durationMs.medianUs / 1000, unit: 'ms', method: `same requests; p99 ${(measured.whoami.durationMs.p99Us / 1000).toFixed(2)} ms` },
    { group: GROUP, name: 'read units per authorization', value: measured.authorizer.readUnits, unit: 'RRU', method: 'ConsumedCapacity reported by DynamoDB Local for the authorizer\'s reads, averaged' },
    { group: GROUP, name: 'write units per whoami request', value: measured.whoami.writeUnits, unit: 'WRU', method: 'ConsumedCapacity of the handler\'s writes (lastUsedAt, at most once a minute per key), averaged' },
    {
      group: GROUP,
      name: 'application log bytes per request, cache off',
      value: measured.logBytesPerRequest,
      unit: 'B',
      method: `bytes both functions wrote to stdout, averaged; at ${String(PRICES.logsPerGbIngested)} USD/GB that is ${((measured.logBytesPerRequest * 1e6 * PRICES.logsPerGbIngested) / 1e9).toFixed(2)} USD per million (not in the totals below)`,
    },
    ...perMillion.map((line) => ({
      group: GROUP,
      name: `USD per million requests, ${String(Math.round(line.hitRate * 100))}% cache hits`,
      value: line.total,
      unit: 'USD',
      method: `API GW ${line.apiGateway.toFixed(2)} + Lambda req ${line.lambdaRequests.toFixed(2)} + Lambda Arm ${String(LAMBDA_MEMORY_MB)} MB ${line.lambdaDuration.toFixed(2)} + DynamoDB ${line.dynamoDb.toFixed(3)} + WAF ${line.waf.toFixed(2)}; ${PRICES.region} list prices, medians billed per started ms`,
    })),
    {
      group: GROUP,
      name: 'WAF web ACL, fixed per month',
      value: PRICES.wafWebAclPerMonth + WAF_RULES * PRICES.wafRulePerMonth,
      unit: 'USD',
      method: `one web ACL (${String(PRICES.wafWebAclPerMonth)}) + ${String(WAF_RULES)} rules at ${String(PRICES.wafRulePerMonth)} each; list prices, whatever the traffic (context waf=false removes it)`,
    },
  ];
  return {
    figures,
    details: {
      prices: PRICES,
      memoryMb: LAMBDA_MEMORY_MB,
      measured,
      billedMs: { authorizer: billedMs(measured.authorizer.durationMs.medianUs), whoami: billedMs(measured.whoami.durationMs.medianUs) },
      perMillion,
    },
  };
}
