/**
 * The cost model of group 6: what a million `GET /v1/whoami` requests cost on AWS in each
 * flavor (API Gateway REST or HTTP API in front), from one set of measured inputs. Pure
 * arithmetic on list prices; the measurements come from bench/cost.ts.
 */

/** The front door: API Gateway REST (the default) or API Gateway HTTP API (DESIGN 15). */
export type Flavor = 'rest' | 'http';
export const FLAVORS: readonly Flavor[] = ['rest', 'http'];

/**
 * List prices, us-east-1, on-demand, without free tier. Inputs, not results: check them
 * against the current price pages (each entry names its page) before relying on the totals.
 */
export const PRICES = {
  region: 'us-east-1',
  /** API Gateway REST API, per million requests (first 333 million a month). https://aws.amazon.com/api-gateway/pricing/ */
  apiGatewayRestPerMillion: 3.5,
  /** API Gateway HTTP API, per million requests (first 300 million a month; 0.90 after). https://aws.amazon.com/api-gateway/pricing/ */
  apiGatewayHttpPerMillion: 1.0,
  /** HTTP API requests are metered in 512 KB increments: a 513 KB request is billed as two. https://aws.amazon.com/api-gateway/pricing/ */
  apiGatewayHttpMeteringBytes: 512 * 1024,
  /** Lambda, per million invocations. https://aws.amazon.com/lambda/pricing/ */
  lambdaPerMillionRequests: 0.2,
  /** Lambda on Arm (Graviton), per GB-second (first 7.5 billion GB-s a month). https://aws.amazon.com/lambda/pricing/ */
  lambdaArmPerGbSecond: 0.0000133334,
  /** DynamoDB on-demand, per million read request units. https://aws.amazon.com/dynamodb/pricing/on-demand/ */
  dynamoDbPerMillionReadUnits: 0.125,
  /** DynamoDB on-demand, per million write request units. https://aws.amazon.com/dynamodb/pricing/on-demand/ */
  dynamoDbPerMillionWriteUnits: 0.625,
  /** KMS, per 10,000 requests (Decrypt). https://aws.amazon.com/kms/pricing/ */
  kmsPer10kRequests: 0.03,
  /** CloudWatch Logs, per GB ingested (standard class). https://aws.amazon.com/cloudwatch/pricing/ */
  logsPerGbIngested: 0.5,
  /** X-Ray, per million traces recorded. https://aws.amazon.com/xray/pricing/ */
  xrayPerMillionTraces: 5,
  /**
   * X-Ray's default sampling rule records the first request each second and 5% of the rest:
   * at high traffic, 5% of requests. https://docs.aws.amazon.com/xray/latest/devguide/xray-console-sampling.html
   */
  xrayDefaultSampledShare: 0.05,
  /**
   * AWS WAF: per web ACL a month, per rule (or managed rule group) a month, per million requests
   * inspected (up to 1,500 WCU). https://aws.amazon.com/waf/pricing/
   */
  wafWebAclPerMonth: 5,
  wafRulePerMonth: 1,
  wafPerMillionRequests: 0.6,
  /**
   * CloudFront pay-as-you-go, United States/Mexico/Canada: HTTPS requests at USD 0.0100 per
   * 10,000, that is per million; data transfer out is billed per GB besides.
   * https://aws.amazon.com/cloudfront/pricing/
   */
  cloudFrontHttpsPerMillion: 1.0,
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

/** DESIGN 15: the HTTP flavor at 90% cache hits costs at most this share of REST's own price per million. */
export const HTTP_FLAVOR_GOAL = { hitRate: 0.9, maxShareOfRestPrice: 0.4 } as const;

/**
 * Durations closer to Lambda than DynamoDB Local on this machine gives (an assumption, not a
 * measurement): a 512 MB function gets a fraction of a vCPU and a real DynamoDB read takes a
 * few milliseconds.
 */
export const PESSIMISTIC_BILLED_MS = { authorizer: 20, handler: 10 } as const;

/** What one request costs in work, whichever gateway is in front: the same functions, the same reads. */
export interface CostInputs {
  /** Billed duration of one authorizer invocation (whole milliseconds). */
  readonly authorizerBilledMs: number;
  /** Billed duration of one handler invocation (whole milliseconds). */
  readonly handlerBilledMs: number;
  readonly authorizerReadUnits: number;
  readonly authorizerWriteUnits: number;
  readonly handlerReadUnits: number;
  readonly handlerWriteUnits: number;
  /** Application log bytes one authorizer invocation writes. */
  readonly authorizerLogBytes: number;
  /** Application log bytes one handler invocation writes. */
  readonly handlerLogBytes: number;
  /** Size of the request as the gateway receives it (request line, headers, body). */
  readonly requestBytes: number;
}

export interface CostLine {
  readonly flavor: Flavor;
  readonly hitRate: number;
  readonly apiGateway: number;
  readonly lambdaRequests: number;
  readonly lambdaDuration: number;
  readonly dynamoDb: number;
  /** WAF's per-request price: REST's web ACL on the stage; HTTP API takes no web ACL, so 0 (see frontDoorOption). */
  readonly waf: number;
  readonly total: number;
}

/** Lambda bills each invocation's duration rounded up to the next millisecond. */
export function billedMs(durationUs: number): number {
  return Math.max(1, Math.ceil(durationUs / 1000));
}

/** How many requests API Gateway bills for one request of this size. */
export function meteredRequests(flavor: Flavor, requestBytes: number): number {
  if (flavor === 'rest') return 1;
  return Math.max(1, Math.ceil(requestBytes / PRICES.apiGatewayHttpMeteringBytes));
}

/**
 * Cost of one million requests for a given authorizer cache hit rate: every request is one
 * API Gateway request and one handler invocation; a miss adds an authorizer invocation and its
 * reads. HTTP API caches a Lambda authorizer's answer as REST does (identity sources, TTL), so
 * only the gateway's price and WAF differ between the flavors. Cold starts (one KMS Decrypt
 * each) are left out: per container, not per request.
 */
export function costPerMillion(inputs: CostInputs, hitRate: number, flavor: Flavor): CostLine {
  if (!(hitRate >= 0 && hitRate <= 1)) throw new RangeError(`hit rate must be between 0 and 1 (got ${hitRate})`);
  const misses = 1 - hitRate;
  const gbSeconds = (ms: number): number => (ms / 1000) * (LAMBDA_MEMORY_MB / 1024);
  const perRequest = flavor === 'rest' ? PRICES.apiGatewayRestPerMillion : PRICES.apiGatewayHttpPerMillion;
  const apiGateway = perRequest * meteredRequests(flavor, inputs.requestBytes);
  const lambdaRequests = PRICES.lambdaPerMillionRequests * (1 + misses);
  const lambdaDuration = 1e6 * PRICES.lambdaArmPerGbSecond * (gbSeconds(inputs.handlerBilledMs) + misses * gbSeconds(inputs.authorizerBilledMs));
  const readUnits = inputs.handlerReadUnits + misses * inputs.authorizerReadUnits;
  const writeUnits = inputs.handlerWriteUnits + misses * inputs.authorizerWriteUnits;
  const dynamoDb = readUnits * PRICES.dynamoDbPerMillionReadUnits + writeUnits * PRICES.dynamoDbPerMillionWriteUnits;
  const waf = flavor === 'rest' ? PRICES.wafPerMillionRequests : 0;
  return { flavor, hitRate, apiGateway, lambdaRequests, lambdaDuration, dynamoDb, waf, total: apiGateway + lambdaRequests + lambdaDuration + dynamoDb + waf };
}

/**
 * What the functions' observability adds per million requests, in either flavor and outside
 * the totals above: the application log lines (the handler's on every request, the
 * authorizer's on a miss) ingested into CloudWatch Logs, and X-Ray traces at the default
 * sampling rule (the functions have active tracing). Lambda's own START/END/REPORT lines are
 * not counted.
 */
export function observabilityPerMillion(inputs: CostInputs, hitRate: number): { readonly logs: number; readonly tracing: number; readonly total: number } {
  const bytes = inputs.handlerLogBytes + (1 - hitRate) * inputs.authorizerLogBytes;
  const logs = (bytes * 1e6 * PRICES.logsPerGbIngested) / 1e9;
  const tracing = PRICES.xrayDefaultSampledShare * PRICES.xrayPerMillionTraces;
  return { logs, tracing, total: logs + tracing };
}

/**
 * The HTTP flavor's price at the goal's hit rate as a share of API Gateway REST's own price per
 * million (DESIGN 15: at most 0.4).
 */
export function httpShareOfRestPrice(inputs: CostInputs): number {
  return costPerMillion(inputs, HTTP_FLAVOR_GOAL.hitRate, 'http').total / PRICES.apiGatewayRestPerMillion;
}

/** The same inputs with the pessimistic durations in place of the measured ones. */
export function withPessimisticDurations(inputs: CostInputs): CostInputs {
  return { ...inputs, authorizerBilledMs: PESSIMISTIC_BILLED_MS.authorizer, handlerBilledMs: PESSIMISTIC_BILLED_MS.handler };
}

/**
 * A line a team may add to the HTTP flavor, never part of its totals: HTTP API cannot take a
 * WAF web ACL, so WAF goes on a CloudFront distribution in front of it. Per million requests:
 * CloudFront's HTTPS requests plus WAF's inspection; every request still reaches and is billed
 * by API Gateway. Fixed a month: the web ACL and its rules, as on REST.
 */
export function frontDoorOption(): { readonly perMillion: number; readonly cloudFront: number; readonly waf: number; readonly fixedPerMonth: number } {
  const cloudFront = PRICES.cloudFrontHttpsPerMillion;
  const waf = PRICES.wafPerMillionRequests;
  return { perMillion: cloudFront + waf, cloudFront, waf, fixedPerMonth: PRICES.wafWebAclPerMonth + WAF_RULES * PRICES.wafRulePerMonth };
}
