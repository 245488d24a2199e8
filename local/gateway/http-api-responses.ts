import { randomUUID } from 'node:crypto';
import { NON_CANONICAL_PATH_MESSAGE } from '#shared/http/request-path.ts';
import type { GatewayErrorKind, GatewayResponse } from './gateway-responses.ts';

/**
 * What API Gateway's HTTP API answers itself, and how it reads a Lambda's answer in payload
 * format 2.0, for the local gateway's `http` flavor. Its bodies are its own: no route is 404
 * `{"message":"Not Found"}` (REST says 403 Missing Authentication Token), any refusal by the
 * authorizer's policy is 403 `{"message":"Forbidden"}` (REST tells an explicit deny apart), a
 * failing authorizer or integration is 500 `{"message":"Internal Server Error"}`, and a route
 * throttle is 429 `{"message":"Too Many Requests"}`. It names the request in `apigw-requestid`,
 * and sends no `x-amzn-errortype`.
 */

const HTTP_API_ERRORS: Record<GatewayErrorKind, { status: number; message: string }> = {
  // Refused by this runtime before routing, whatever the flavor (shared/http/request-path.ts).
  'non-canonical-path': { status: 400, message: NON_CANONICAL_PATH_MESSAGE },
  'missing-authentication-token': { status: 404, message: 'Not Found' },
  unauthorized: { status: 401, message: 'Unauthorized' },
  'explicit-deny': { status: 403, message: 'Forbidden' },
  'implicit-deny': { status: 403, message: 'Forbidden' },
  'authorizer-failure': { status: 500, message: 'Internal Server Error' },
  'request-too-large': { status: 413, message: 'Request Entity Too Large' },
  'integration-failure': { status: 500, message: 'Internal Server Error' },
  throttled: { status: 429, message: 'Too Many Requests' },
  // HTTP API has no usage plans, so no quota; a throttle is all it can answer.
  'quota-exceeded': { status: 429, message: 'Too Many Requests' },
};

export function httpApiError(kind: GatewayErrorKind, requestId: string = randomUUID()): GatewayResponse {
  const { status, message } = HTTP_API_ERRORS[kind];
  return httpApiAnswer(status, message, requestId);
}

/** HTTP API's own answer: `{"message": ...}`, named by its request id. */
function httpApiAnswer(status: number, message: string, requestId: string): GatewayResponse {
  return { status, headers: { 'content-type': 'application/json', 'apigw-requestid': requestId }, body: JSON.stringify({ message }), isBase64Encoded: false };
}

/**
 * An HTTP integration that failed, as HTTP API answers it: no answer within the integration
 * timeout is 503 `{"message":"Service Unavailable"}`, a backend it cannot reach its 500.
 */
export function httpApiIntegrationFailure(timedOut: boolean, requestId: string): GatewayResponse {
  return timedOut ? httpApiAnswer(503, 'Service Unavailable', requestId) : httpApiError('integration-failure', requestId);
}

/**
 * A Lambda's answer as HTTP API reads format 2.0: an object with `statusCode` is a structured
 * response (`headers`, `cookies` as `set-cookie`, `body`, `isBase64Encoded`; there is no
 * `multiValueHeaders` in this format); anything else that is JSON (a string, an object without
 * `statusCode`) is a 200 `application/json` whose body is that value. A malformed structured
 * response is HTTP API's 500.
 */
export function httpApiProxyResponse(result: unknown, requestId: string): GatewayResponse {
  if (result === undefined) return httpApiError('integration-failure', requestId);
  if (typeof result !== 'object' || result === null || !('statusCode' in result)) {
    return {
      status: 200,
      headers: { 'content-type': 'application/json', 'apigw-requestid': requestId },
      body: typeof result === 'string' ? result : JSON.stringify(result),
      isBase64Encoded: false,
    };
  }
  const { statusCode, headers, cookies, body, isBase64Encoded } = result as Record<string, unknown>;
  if (typeof statusCode !== 'number' || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    return httpApiError('integration-failure', requestId);
  }
  if (body !== undefined && body !== null && typeof body !== 'string') return httpApiError('integration-failure', requestId);
  const merged = new Map<string, string | string[]>();
  if (typeof headers === 'object' && headers !== null) {
    for (const [name, value] of Object.entries(headers)) {
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') merged.set(name.toLowerCase(), String(value));
    }
  }
  if (Array.isArray(cookies) && cookies.length > 0) merged.set('set-cookie', cookies.map(String));
  merged.set('apigw-requestid', requestId);
  return { status: statusCode, headers: Object.fromEntries(merged), body: typeof body === 'string' ? body : '', isBase64Encoded: isBase64Encoded === true };
}
