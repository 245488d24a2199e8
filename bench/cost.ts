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
import {
  type CostInputs,
  type CostLine,
  type Flavor,
  FLAVORS,
  HIT_RATES,
  HTTP_FLAVOR_GOAL,
  LAMBDA_MEMORY_MB,
  PESSIMISTIC_BILLED_MS,
  PRICES,
  WAF_RULES,
  billedMs,
  costPerMillion,
  frontDoorOption,
  httpShareOfRestPrice,
  meteredRequests,
  observabilityPerMillion,
  withPessimisticDurations,
} from './cost-model.ts';
import type { Figure } from './report.ts';
import { type LatencySummary, summarize } from './stats.ts';

const GROUP = '6 cost';
const REQUESTS = 1_000;
const WARMUP = 100;

export interface FunctionCosts {
  readonly authorizer: { readonly durationMs: LatencySummary; readonly readUnits: number; readonly writeUnits: number };
  readonly whoami: { readonly durationMs: LatencySummary; readonly readUnits: number; readonly writeUnits: number };
  /** Application log bytes written per request by both functions (the runtime's own lines not included). */
  readonly logBytesPerRequest: number;
  /** The same bytes by the function that wrote them, per invocation. */
  readonly logBytesPerInvocation: { readonly authorizer: number; readonly whoami: number };
  /** The request as sent: request line, headers and blank line (whoami has no body). */
  readonly requestBytes: number;
}

export interface CostResult {
  readonly figures: readonly Figure[];
  readonly details: {
    readonly prices: typeof PRICES;
    readonly memoryMb: number;
    readonly measured: FunctionCosts;
    readonly billedMs: { readonly authorizer: number; readonly whoami: number };
    readonly perMillion: readonly CostLine[];
    readonly perMillionPessimistic: readonly CostLine[];
    readonly httpShareOfRestPrice: { readonly measured: number; readonly pessimistic: number };
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
    let running: 'authorizer' | 'whoami' | undefined;
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
        running = name;
        const t0 = process.hrtime.bigint();
        try {
          return await run(...args);
        } finally {
          running = undefined;
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
    const logBytesBy = { authorizer: 0, whoami: 0 };
    await withStdoutDiscarded(async () => {
      for (let i = 0; i < WARMUP; i += 1) await gateway.handle(request);
      recording = true;
      logBytes = 0;
      logBytesBy.authorizer = 0;
      logBytesBy.whoami = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < REQUESTS; i += 1) {
        const response = await gateway.handle(request);
        if (response.status !== 200) throw new Error(`whoami answered ${String(response.status)}`);
      }
      started.wall = process.hrtime.bigint() - t0;
    }, (bytes) => {
      logBytes += bytes;
      // Requests run one at a time and the logger writes during the call, so the running function wrote them.
      if (running !== undefined) logBytesBy[running] += bytes;
    });
    return {
      authorizer: { durationMs: summarize(timings.authorizer, started.wall), readUnits: units.authorizer.read / REQUESTS, writeUnits: units.authorizer.write / REQUESTS },
      whoami: { durationMs: summarize(timings.whoami, started.wall), readUnits: units.whoami.read / REQUESTS, writeUnits: units.whoami.write / REQUESTS },
      logBytesPerRequest: logBytes / REQUESTS,
      logBytesPerInvocation: { authorizer: logBytesBy.authorizer / REQUESTS, whoami: logBytesBy.whoami / REQUESTS },
      requestBytes: requestSize(request),
    };
  } finally {
    db.raw.destroy();
  }
}

/** Bytes of a request as it travels: request line, each header line, the blank line; no body here. */
function requestSize(request: { readonly method: string; readonly path: string; readonly headers: Readonly<Record<string, string>> }): number {
  const lines = [`${request.method} ${request.path} HTTP/1.1`, ...Object.entries(request.headers).map(([name, value]) => `${name}: ${value}`), '', ''];
  return Buffer.byteLength(lines.join('\r\n'));
}

/** The model's inputs from a run: medians billed per started millisecond, reads and writes averaged. */
export function costInputs(measured: FunctionCosts): CostInputs {
  return {
    authorizerBilledMs: billedMs(measured.authorizer.durationMs.medianUs),
    handlerBilledMs: billedMs(measured.whoami.durationMs.medianUs),
    authorizerReadUnits: measured.authorizer.readUnits,
    authorizerWriteUnits: measured.authorizer.writeUnits,
    handlerReadUnits: measured.whoami.readUnits,
    handlerWriteUnits: measured.whoami.writeUnits,
    authorizerLogBytes: measured.logBytesPerInvocation.authorizer,
    handlerLogBytes: measured.logBytesPerInvocation.whoami,
    requestBytes: measured.requestBytes,
  };
}

const FLAVOR_NAMES: Record<Flavor, string> = { rest: 'REST flavor', http: 'HTTP flavor' };

function costFigure(line: CostLine, durations: string): Figure {
  const parts = [`API GW ${line.apiGateway.toFixed(2)}`, `Lambda req ${line.lambdaRequests.toFixed(2)}`, `Lambda Arm ${String(LAMBDA_MEMORY_MB)} MB ${line.lambdaDuration.toFixed(3)}`, `DynamoDB ${line.dynamoDb.toFixed(3)}`];
  if (line.flavor === 'rest') parts.push(`WAF ${line.waf.toFixed(2)}`);
  return {
    group: GROUP,
    name: `${FLAVOR_NAMES[line.flavor]}: USD per million requests, ${String(Math.round(line.hitRate * 100))}% cache hits${durations === 'measured' ? '' : `, ${durations} durations`}`,
    value: line.total,
    unit: 'USD',
    method: `${parts.join(' + ')}; ${PRICES.region} list prices, ${durations === 'measured' ? 'medians billed per started ms' : `authorizer ${String(PESSIMISTIC_BILLED_MS.authorizer)} ms, handler ${String(PESSIMISTIC_BILLED_MS.handler)} ms billed (assumed)`}${line.flavor === 'http' ? '; no WAF (HTTP API takes none)' : ''}`,
  };
}

export async function benchCost(endpoint: string): Promise<CostResult> {
  const measured = await measureFunctionCosts(endpoint);
  const inputs = costInputs(measured);
  const pessimistic = withPessimisticDurations(inputs);
  const perMillion = FLAVORS.flatMap((flavor) => HIT_RATES.map((rate) => costPerMillion(inputs, rate, flavor)));
  const perMillionPessimistic = FLAVORS.map((flavor) => costPerMillion(pessimistic, HTTP_FLAVOR_GOAL.hitRate, flavor));
  const share = { measured: httpShareOfRestPrice(inputs), pessimistic: httpShareOfRestPrice(pessimistic) };
  const option = frontDoorOption();
  const observability = observabilityPerMillion(inputs, HTTP_FLAVOR_GOAL.hitRate);
  const httpAtGoal = costPerMillion(inputs, HTTP_FLAVOR_GOAL.hitRate, 'http').total;
  const goalHits = `${String(Math.round(HTTP_FLAVOR_GOAL.hitRate * 100))}% cache hits`;
  const method = `${String(REQUESTS)} GET /v1/whoami through the gateway emulator, cache off, DynamoDB Local; each function timed around its invocation`;
  const figures: Figure[] = [
    { group: GROUP, name: 'authorizer duration, median', value: measured.authorizer.durationMs.medianUs / 1000, unit: 'ms', method: `${method}; p99 ${(measured.authorizer.durationMs.p99Us / 1000).toFixed(2)} ms` },
    { group: GROUP, name: 'whoami handler duration, median', value: measured.whoami.durationMs.medianUs / 1000, unit: 'ms', method: `same requests; p99 ${(measured.whoami.durationMs.p99Us / 1000).toFixed(2)} ms` },
    { group: GROUP, name: 'read units per authorization', value: measured.authorizer.readUnits, unit: 'RRU', method: 'ConsumedCapacity reported by DynamoDB Local for the authorizer\'s reads, averaged' },
    { group: GROUP, name: 'write units per whoami request', value: measured.whoami.writeUnits, unit: 'WRU', method: 'ConsumedCapacity of the handler\'s writes (lastUsedAt, at most once a minute per key), averaged' },
    {
      group: GROUP,
      name: 'request size as the gateway meters it',
      value: measured.requestBytes,
      unit: 'B',
      method: `request line and headers of the benchmark's whoami request, no body; HTTP API bills ${String(meteredRequests('http', measured.requestBytes))} request(s) for it (512 KB increments)`,
    },
    {
      group: GROUP,
      name: 'application log bytes per request, cache off',
      value: measured.logBytesPerRequest,
      unit: 'B',
      method: `bytes both functions wrote to stdout, averaged (authorizer ${measured.logBytesPerInvocation.authorizer.toFixed(0)}, whoami ${measured.logBytesPerInvocation.whoami.toFixed(0)}); at ${String(PRICES.logsPerGbIngested)} USD/GB that is ${((measured.logBytesPerRequest * 1e6 * PRICES.logsPerGbIngested) / 1e9).toFixed(2)} USD per million (not in the totals below)`,
    },
    ...perMillion.map((line) => costFigure(line, 'measured')),
    ...perMillionPessimistic.map((line) => costFigure(line, 'pessimistic')),
    {
      group: GROUP,
      name: `HTTP flavor / REST's own USD ${PRICES.apiGatewayRestPerMillion.toFixed(2)}, ${goalHits} (goal at most ${String(HTTP_FLAVOR_GOAL.maxShareOfRestPrice)})`,
      value: share.measured,
      unit: 'x',
      method: `HTTP flavor's total per million at ${goalHits} over API Gateway REST's price per million; ${share.pessimistic.toFixed(2)}x with the pessimistic durations`,
    },
    {
      group: GROUP,
      name: `logs and tracing, USD per million requests, ${goalHits}`,
      value: observability.total,
      unit: 'USD',
      method: `either flavor, not in the totals: CloudWatch Logs ${observability.logs.toFixed(2)} (the handler's line on every request, the authorizer's on a miss) + X-Ray ${observability.tracing.toFixed(2)} (default sampling, 5%); with them the HTTP flavor is ${((httpAtGoal + observability.total) / PRICES.apiGatewayRestPerMillion).toFixed(2)}x REST's USD ${PRICES.apiGatewayRestPerMillion.toFixed(2)}`,
    },
    {
      group: GROUP,
      name: 'HTTP flavor option: CloudFront + WAF in front, per million',
      value: option.perMillion,
      unit: 'USD',
      method: `CloudFront HTTPS requests ${option.cloudFront.toFixed(2)} + WAF ${option.waf.toFixed(2)}; a line a team may add, not in the HTTP totals (data transfer and the web ACL's ${String(option.fixedPerMonth)} USD a month besides)`,
    },
    {
      group: GROUP,
      name: 'WAF web ACL, fixed per month',
      value: option.fixedPerMonth,
      unit: 'USD',
      method: `one web ACL (${String(PRICES.wafWebAclPerMonth)}) + ${String(WAF_RULES)} rules at ${String(PRICES.wafRulePerMonth)} each; list prices, whatever the traffic; REST flavor (context waf=false removes it), or the HTTP flavor's CloudFront option`,
    },
  ];
  return {
    figures,
    details: {
      prices: PRICES,
      memoryMb: LAMBDA_MEMORY_MB,
      measured,
      billedMs: { authorizer: inputs.authorizerBilledMs, whoami: inputs.handlerBilledMs },
      perMillion,
      perMillionPessimistic,
      httpShareOfRestPrice: share,
    },
  };
}
