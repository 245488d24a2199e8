import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { NON_CANONICAL_PATH_MESSAGE } from '#shared/http/request-path.ts';

/**
 * What the local gateway answers: a backend's result as API Gateway passes it on, or one of
 * API Gateway's own responses (its default gateway responses), with the same status, body and
 * error type header as the deployed stage, so a client meets locally what it meets deployed.
 */

export interface GatewayResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  readonly body: string;
  readonly isBase64Encoded: boolean;
  /** A body streamed from an HTTP backend, sent as it arrives (then `body` is empty). */
  readonly stream?: Readable;
}

/** API Gateway's own refusals and failures, by what caused them. */
export type GatewayErrorKind =
  | 'non-canonical-path'
  | 'missing-authentication-token'
  | 'unauthorized'
  | 'explicit-deny'
  | 'implicit-deny'
  | 'authorizer-failure'
  | 'request-too-large'
  | 'integration-failure'
  | 'throttled'
  | 'quota-exceeded';

const GATEWAY_ERRORS: Record<GatewayErrorKind, { status: number; message: string | null; type: string }> = {
  'non-canonical-path': { status: 400, message: NON_CANONICAL_PATH_MESSAGE, type: 'BadRequestException' },
  'missing-authentication-token': { status: 403, message: 'Missing Authentication Token', type: 'MissingAuthenticationTokenException' },
  unauthorized: { status: 401, message: 'Unauthorized', type: 'UnauthorizedException' },
  'explicit-deny': {
    status: 403,
    message: 'User is not authorized to access this resource with an explicit deny',
    type: 'AccessDeniedException',
  },
  'implicit-deny': { status: 403, message: 'User is not authorized to access this resource', type: 'AccessDeniedException' },
  'authorizer-failure': { status: 500, message: null, type: 'AuthorizerConfigurationException' },
  'request-too-large': { status: 413, message: 'Request Entity Too Large', type: 'RequestTooLargeException' },
  'integration-failure': { status: 502, message: 'Internal server error', type: 'InternalServerErrorException' },
  // A usage plan's answers: over the rate (THROTTLED) and over the quota (QUOTA_EXCEEDED).
  throttled: { status: 429, message: 'Too Many Requests', type: 'TooManyRequestsException' },
  'quota-exceeded': { status: 429, message: 'Limit Exceeded', type: 'LimitExceededException' },
};

export function gatewayError(kind: GatewayErrorKind, requestId: string = randomUUID()): GatewayResponse {
  const { status, message, type } = GATEWAY_ERRORS[kind];
  return {
    status,
    headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId, 'x-amzn-errortype': type },
    body: JSON.stringify({ message }),
    isBase64Encoded: false,
  };
}

/** A handler's result as the client sees it; a malformed one is API Gateway's 502. */
export function proxyResponse(result: unknown, requestId: string): GatewayResponse {
  if (typeof result !== 'object' || result === null) return gatewayError('integration-failure', requestId);
  const { statusCode, headers, multiValueHeaders, isBase64Encoded } = result as Partial<APIGatewayProxyResult>;
  const body: unknown = (result as { body?: unknown }).body;
  if (typeof statusCode !== 'number' || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    return gatewayError('integration-failure', requestId);
  }
  if (body !== undefined && body !== null && typeof body !== 'string') return gatewayError('integration-failure', requestId);
  const merged = new Map<string, string | string[]>();
  for (const [name, value] of Object.entries(headers ?? {})) merged.set(name.toLowerCase(), String(value));
  for (const [name, values] of Object.entries(multiValueHeaders ?? {})) {
    const key = name.toLowerCase();
    const previous = merged.get(key);
    const list = previous === undefined ? [] : typeof previous === 'string' ? [previous] : previous;
    merged.set(key, [...list, ...values.map(String)]);
  }
  merged.set('x-amzn-requestid', requestId);
  return { status: statusCode, headers: Object.fromEntries(merged), body: typeof body === 'string' ? body : '', isBase64Encoded: isBase64Encoded === true };
}
