import { describe, expect, it } from 'vitest';
import {
  type CostInputs,
  HIT_RATES,
  HTTP_FLAVOR_GOAL,
  PRICES,
  costPerMillion,
  frontDoorOption,
  httpShareOfRestPrice,
  meteredRequests,
  observabilityPerMillion,
  withPessimisticDurations,
} from '../../bench/cost-model.ts';

/** The inputs of the recorded run (docs/performance.md): authorizer 3.70 ms -> 4 ms, whoami 0.11 ms -> 1 ms, 2 RRU per authorization. */
const RECORDED: CostInputs = {
  authorizerBilledMs: 4,
  handlerBilledMs: 1,
  authorizerReadUnits: 2,
  authorizerWriteUnits: 0,
  handlerReadUnits: 0,
  handlerWriteUnits: 0,
  authorizerLogBytes: 300,
  handlerLogBytes: 259,
  requestBytes: 180,
};

describe('the cost model of both flavors (DESIGN 15)', () => {
  it('prices the gateway at each flavor\'s own price, and WAF only on REST', () => {
    const rest = costPerMillion(RECORDED, 0.9, 'rest');
    const http = costPerMillion(RECORDED, 0.9, 'http');
    expect(rest.apiGateway).toBe(3.5);
    expect(rest.waf).toBe(0.6);
    expect(http.apiGateway).toBe(1);
    expect(http.waf).toBe(0);
    // The same functions and reads behind either gateway.
    expect(http.lambdaRequests).toBe(rest.lambdaRequests);
    expect(http.lambdaDuration).toBe(rest.lambdaDuration);
    expect(http.dynamoDb).toBe(rest.dynamoDb);
    expect(rest.total - http.total).toBeCloseTo(2.5 + 0.6, 10);
  });

  it('reproduces the worked example of docs/performance.md', () => {
    const totals = HIT_RATES.map((rate) => costPerMillion(RECORDED, rate, 'rest').total - PRICES.wafPerMillionRequests);
    expect(totals.map((total) => total.toFixed(2))).toEqual(['4.18', '3.95', '3.75', '3.71']);
    const http = HIT_RATES.map((rate) => costPerMillion(RECORDED, rate, 'http').total);
    expect(http.map((total) => total.toFixed(2))).toEqual(['1.68', '1.45', '1.25', '1.21']);
  });

  it('a cache miss costs an authorizer invocation and its reads; a hit only the handler', () => {
    const allHits = costPerMillion(RECORDED, 1, 'http');
    const allMisses = costPerMillion(RECORDED, 0, 'http');
    expect(allHits.dynamoDb).toBe(0);
    expect(allMisses.dynamoDb).toBeCloseTo(2 * 0.125, 10);
    expect(allMisses.lambdaRequests).toBeCloseTo(0.4, 10);
    expect(allHits.lambdaRequests).toBeCloseTo(0.2, 10);
    expect(() => costPerMillion(RECORDED, 1.5, 'http')).toThrow(RangeError);
  });

  it('meters HTTP API requests in 512 KB increments, REST per request', () => {
    expect(meteredRequests('http', 180)).toBe(1);
    expect(meteredRequests('http', 512 * 1024)).toBe(1);
    expect(meteredRequests('http', 512 * 1024 + 1)).toBe(2);
    expect(meteredRequests('rest', 5 * 1024 * 1024)).toBe(1);
    expect(costPerMillion({ ...RECORDED, requestBytes: 513 * 1024 }, 0.9, 'http').apiGateway).toBe(2);
  });

  it('meets the goal: the HTTP flavor at 90% hits is at most 0.4x REST\'s own USD 3.50, with measured and with pessimistic durations', () => {
    expect(HTTP_FLAVOR_GOAL).toEqual({ hitRate: 0.9, maxShareOfRestPrice: 0.4 });
    expect(httpShareOfRestPrice(RECORDED)).toBeLessThanOrEqual(0.4);
    expect(httpShareOfRestPrice(withPessimisticDurations(RECORDED))).toBeLessThanOrEqual(0.4);
    // And it is a share of REST's gateway price alone, not of the REST flavor's total.
    expect(httpShareOfRestPrice(RECORDED)).toBeCloseTo(costPerMillion(RECORDED, 0.9, 'http').total / 3.5, 10);
  });

  it('keeps CloudFront + WAF in front of the HTTP flavor out of its totals, as a line of its own', () => {
    const option = frontDoorOption();
    expect(option.perMillion).toBeCloseTo(1.0 + 0.6, 10);
    expect(option.fixedPerMonth).toBe(12);
    expect(costPerMillion(RECORDED, 0.9, 'http').total).toBeLessThan(1.3);
  });

  it('prices logs by the function that writes them, and tracing at the default sampling, outside the totals', () => {
    const allMisses = observabilityPerMillion(RECORDED, 0);
    expect(allMisses.logs).toBeCloseTo((559 * 1e6 * 0.5) / 1e9, 10);
    const atGoal = observabilityPerMillion(RECORDED, 0.9);
    expect(atGoal.logs).toBeCloseTo(((259 + 0.1 * 300) * 1e6 * 0.5) / 1e9, 10);
    expect(atGoal.tracing).toBeCloseTo(0.25, 10);
    expect(costPerMillion(RECORDED, 0.9, 'http').total).toBe(costPerMillion({ ...RECORDED, handlerLogBytes: 10_000 }, 0.9, 'http').total);
  });
});
