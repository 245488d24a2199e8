import { readFileSync } from 'node:fs';
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

/** The inputs of the run recorded in docs/performance.md: authorizer 7.25 ms -> 8 ms, whoami 0.14 ms -> 1 ms, 2 RRU per authorization. */
const RECORDED: CostInputs = {
  authorizerBilledMs: 8,
  handlerBilledMs: 1,
  authorizerReadUnits: 2,
  authorizerWriteUnits: 0,
  handlerReadUnits: 0,
  handlerWriteUnits: 0,
  authorizerLogBytes: 273,
  handlerLogBytes: 286,
  requestBytes: 214,
};

/** The rows `| h% | REST | HTTP | HTTP / 3.50 |` of a page's table of both flavors. */
function flavorTable(page: string): string[][] {
  return [...readFileSync(page, 'utf8').matchAll(/^\| (\d+)% \| ([\d.]+) \| ([\d.]+) \| \**([\d.]+)\** \|$/gm)].map((m) => m.slice(1));
}

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

  it('gives the figures docs/performance.md and docs/flavors.md show for the recorded run', () => {
    const rows = HIT_RATES.map((rate) => {
      const rest = costPerMillion(RECORDED, rate, 'rest').total;
      const http = costPerMillion(RECORDED, rate, 'http').total;
      return [String(Math.round(rate * 100)), rest.toFixed(2), http.toFixed(2), (http / PRICES.apiGatewayRestPerMillion).toFixed(2)];
    });
    expect(rows).toEqual([
      ['0', '4.81', '1.71', '0.49'],
      ['50', '4.56', '1.46', '0.42'],
      ['90', '4.36', '1.26', '0.36'],
      ['99', '4.31', '1.21', '0.35'],
    ]);
    expect(flavorTable('docs/performance.md')).toEqual(rows);
    expect(flavorTable('docs/flavors.md')).toEqual(rows);
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
    expect(meteredRequests('http', 214)).toBe(1);
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
    expect(atGoal.logs).toBeCloseTo(((286 + 0.1 * 273) * 1e6 * 0.5) / 1e9, 10);
    expect(atGoal.tracing).toBeCloseTo(0.25, 10);
    expect(costPerMillion(RECORDED, 0.9, 'http').total).toBe(costPerMillion({ ...RECORDED, handlerLogBytes: 10_000 }, 0.9, 'http').total);
  });
});
