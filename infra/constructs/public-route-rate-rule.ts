import type { CfnWebACL } from 'aws-cdk-lib/aws-wafv2';
import type { Route } from '#shared/http/routes.ts';

/**
 * The WAF rate rule of the routes that need no keys (leak reports). Their method throttle is
 * one budget for every caller together, so a rate rule per address sized for the whole API
 * (2,000 per 5 minutes, 6.7/s) would let one address at the throttle's 5/s take all of it and
 * leave genuine reporters with 429. This rule counts only those routes' requests, per address,
 * over WAF's shortest window, and blocks an address long before it alone could use the budget up.
 */

/** WAF's shortest evaluation window (60, 120, 300 or 600 seconds): an address is counted over one minute. */
export const PUBLIC_ROUTE_WAF_WINDOW_SECONDS = 60;

/** WAF's smallest rate limit per evaluation window. */
export const WAF_MIN_RATE_LIMIT = 10;

/**
 * One address may use at most this share of the routes' throttle over a window: a tenth, so that
 * ten addresses at their limit still leave the budget unspent, and a genuine reporter (up to 100
 * keys a request) still has 30 requests a minute at the default throttle of 5/s.
 */
export const PUBLIC_ROUTE_ADDRESS_SHARE = 0.1;

export class PublicRouteRateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PublicRouteRateError';
  }
}

/**
 * Requests one address may send to the routes without keys per window: a tenth of what their
 * throttle admits in that window, never below WAF's floor. Refused when even that floor would
 * let one address take half the throttle's window or more: WAF could then not stop one address
 * before it spends the budget everybody shares.
 */
export function publicRouteWafLimit(throttleRateLimit: number): number {
  if (!Number.isFinite(throttleRateLimit) || throttleRateLimit <= 0) {
    throw new PublicRouteRateError(`publicRouteRateLimit must be a number of requests per second above 0 (got ${throttleRateLimit})`);
  }
  const budget = throttleRateLimit * PUBLIC_ROUTE_WAF_WINDOW_SECONDS;
  const limit = Math.max(WAF_MIN_RATE_LIMIT, Math.floor(budget * PUBLIC_ROUTE_ADDRESS_SHARE));
  if (limit * 2 >= budget) {
    throw new PublicRouteRateError(
      `publicRouteRateLimit ${throttleRateLimit}/s admits ${budget} requests a minute; WAF cannot block one address below ` +
        `${WAF_MIN_RATE_LIMIT} a minute, which would let it take half of them or more: use more than ` +
        `${((2 * WAF_MIN_RATE_LIMIT) / PUBLIC_ROUTE_WAF_WINDOW_SECONDS).toFixed(2)}/s, or turn the WAF off`,
    );
  }
  return limit;
}

/** A route's path as WAF sees it, at the end of the URI (after the stage or a custom domain's base path). */
function pathPattern(path: string): string {
  const segments = path
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) => (/^\{\w+\+?\}$/.test(segment) ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')));
  // Repeated and trailing slashes, in case the gateway routes those to the same method.
  return `/+${segments.join('/+')}/*$`;
}

function routeMatch(route: Route): CfnWebACL.StatementProperty {
  return {
    andStatement: {
      statements: [
        {
          byteMatchStatement: {
            fieldToMatch: { method: {} },
            positionalConstraint: 'EXACTLY',
            searchString: route.method,
            textTransformations: [{ priority: 0, type: 'NONE' }],
          },
        },
        {
          regexMatchStatement: {
            fieldToMatch: { uriPath: {} },
            regexString: pathPattern(route.path),
            // Percent-encoded letters must not carry a request past the count.
            textTransformations: [{ priority: 0, type: 'URL_DECODE' }],
          },
        },
      ],
    },
  };
}

/** The rate-based rule for `routes` (the public ones), blocking an address past its share of their throttle. */
export function publicRouteRateRule(
  routes: readonly Route[],
  throttleRateLimit: number,
  priority: number,
  visibilityConfig: CfnWebACL.VisibilityConfigProperty,
): CfnWebACL.RuleProperty {
  const [first, ...others] = routes;
  if (first === undefined) throw new PublicRouteRateError('no public route to scope the rate rule to');
  return {
    name: 'RateLimitPublicRoutesPerSourceAddress',
    priority,
    action: { block: {} },
    statement: {
      rateBasedStatement: {
        limit: publicRouteWafLimit(throttleRateLimit),
        aggregateKeyType: 'IP',
        evaluationWindowSec: PUBLIC_ROUTE_WAF_WINDOW_SECONDS,
        scopeDownStatement: others.length === 0 ? routeMatch(first) : { orStatement: { statements: routes.map(routeMatch) } },
      },
    },
    visibilityConfig,
  };
}
