import type { ApiFlavor } from '#shared/adapters/environment.ts';

/**
 * What the gateway itself answers, per front door (DESIGN 4, 11 and 15). The black-box suites
 * run once per flavor, and these answers are the only difference they allow: a handler's own
 * answers (problem documents, 2xx) are the same behind either.
 */

export interface GatewayAnswer {
  readonly status: number;
  readonly body: { readonly message: string };
  /** REST names its error in `x-amzn-errortype`; HTTP API sends no such header. */
  readonly errorType?: string;
}

export interface FlavorAnswers {
  /** No route for the method and path. */
  readonly noRoute: GatewayAnswer;
  /** A key missing, unknown or revoked; the API switched off. */
  readonly unauthorized: GatewayAnswer;
  /** The authorizer's explicit Deny: valid keys from an address the allow list leaves out, or a route the role's policy denies by name. */
  readonly explicitDeny: GatewayAnswer;
  /** A route the Allow leaves out: valid keys whose role (or permissions) do not reach it. */
  readonly implicitDeny: GatewayAnswer;
  /** Over a throttle: a public route's, or (REST only) an account's plan rate. */
  readonly throttled: GatewayAnswer;
  /** Over a plan's quota; HTTP API has no usage plans, so never. */
  readonly quotaExceeded: GatewayAnswer | undefined;
  /** A body over API Gateway's 10 MiB. */
  readonly tooLarge: GatewayAnswer;
  /** A team's HTTP backend that does not answer within the integration timeout. */
  readonly backendTimeout: GatewayAnswer;
  /** A team's HTTP backend that cannot be reached (connection refused): the status, the body's message being the runtime's own. */
  readonly backendUnreachable: { readonly status: number };
  /** Whether each account's plan (rate, burst, quota) is enforced: usage plans exist on REST only. */
  readonly plansEnforced: boolean;
}

export const FLAVORS: readonly ApiFlavor[] = ['rest', 'http'];

export const ANSWERS: Readonly<Record<ApiFlavor, FlavorAnswers>> = {
  rest: {
    noRoute: { status: 403, body: { message: 'Missing Authentication Token' } },
    unauthorized: { status: 401, body: { message: 'Unauthorized' } },
    explicitDeny: { status: 403, body: { message: 'User is not authorized to access this resource with an explicit deny' } },
    implicitDeny: { status: 403, body: { message: 'User is not authorized to access this resource' } },
    throttled: { status: 429, body: { message: 'Too Many Requests' }, errorType: 'TooManyRequestsException' },
    quotaExceeded: { status: 429, body: { message: 'Limit Exceeded' }, errorType: 'LimitExceededException' },
    tooLarge: { status: 413, body: { message: 'Request Entity Too Large' }, errorType: 'RequestTooLargeException' },
    backendTimeout: { status: 504, body: { message: 'Endpoint request timed out' } },
    backendUnreachable: { status: 502 },
    plansEnforced: true,
  },
  http: {
    noRoute: { status: 404, body: { message: 'Not Found' } },
    unauthorized: { status: 401, body: { message: 'Unauthorized' } },
    explicitDeny: { status: 403, body: { message: 'Forbidden' } },
    implicitDeny: { status: 403, body: { message: 'Forbidden' } },
    throttled: { status: 429, body: { message: 'Too Many Requests' } },
    quotaExceeded: undefined,
    tooLarge: { status: 413, body: { message: 'Request Entity Too Large' } },
    backendTimeout: { status: 503, body: { message: 'Service Unavailable' } },
    backendUnreachable: { status: 500 },
    plansEnforced: false,
  },
};
