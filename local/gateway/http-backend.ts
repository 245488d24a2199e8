import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Principal } from '#shared/domain/model.ts';
import { PRINCIPAL_HEADERS, isWithheldHeader } from '#shared/http/backend-headers.ts';

/**
 * An HTTP backend behind the local gateway, as API Gateway's HTTP proxy integration serves it:
 * the request goes to the base URL + the original path and query, with its method, headers
 * and body; the answer streams back with its status and headers. Neither key header reaches
 * the backend, and the principal arrives as `x-latchkey-*` headers that only the gateway sets.
 */

/** Connections to backends are reused, as API Gateway reuses its own. */
const AGENTS = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

/** API Gateway's integration timeout. */
export const INTEGRATION_TIMEOUT_MS = 29_000;


/** Hop-by-hop headers (RFC 9110 section 7.6.1) belong to one connection, never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
/** Set for the backend's own connection (the body's length is counted again below). */
const NEVER_FORWARDED = new Set(['host', 'content-length']);

export interface HttpBackendRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string | undefined;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly body: Buffer | undefined;
}

export type HttpBackendResult =
  | { readonly ok: true; readonly status: number; readonly headers: Record<string, string | string[]>; readonly body: IncomingMessage }
  | { readonly ok: false; readonly status: 502 | 504; readonly message: string };

function connectionListed(headers: HttpBackendRequest['headers'] | IncomingHttpHeaders): Set<string> {
  const listed = new Set<string>();
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() !== 'connection' || value === undefined) continue;
    for (const part of (typeof value === 'string' ? [value] : value).join(',').split(',')) listed.add(part.trim().toLowerCase());
  }
  return listed;
}

/**
 * What the backend receives: the client's headers less hop-by-hop ones, the keys and anything a
 * backend could read as a principal header (`X_Latchkey_Role` too), plus the principal.
 */
export function forwardedHeaders(headers: HttpBackendRequest['headers'], principal: Principal, body: Buffer | undefined): Record<string, string | string[]> {
  const dropped = connectionListed(headers);
  const out: Record<string, string | string[]> = {};
  for (const [rawName, value] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (value === undefined || HOP_BY_HOP.has(name) || NEVER_FORWARDED.has(name) || dropped.has(name)) continue;
    // The keys are the gateway's business, and only the gateway speaks for the principal.
    if (isWithheldHeader(name)) continue;
    out[name] = typeof value === 'string' ? value : [...value];
  }
  out[PRINCIPAL_HEADERS.accountId] = principal.accountId;
  out[PRINCIPAL_HEADERS.userId] = principal.userId;
  out[PRINCIPAL_HEADERS.role] = principal.role;
  out[PRINCIPAL_HEADERS.keyId] = principal.keyId;
  if (body !== undefined && body.length > 0) out['content-length'] = String(body.length);
  return out;
}

function responseHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const dropped = connectionListed(headers);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || dropped.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** Joins a base URL and a request path as API Gateway's `{proxy}` integration does: the base's own path first. */
export function targetUrl(baseUrl: string, path: string, query: string | undefined): URL {
  const base = new URL(baseUrl);
  const url = new URL(base.href);
  url.pathname = `${base.pathname.replace(/\/$/, '')}${path}`;
  url.search = query === undefined || query === '' ? '' : `?${query}`;
  return url;
}

/**
 * Sends one request. Connection refused, reset or DNS failure: 502 at once. No response
 * headers within the integration timeout: 504, and the request is abandoned.
 */
export function sendToHttpBackend(
  baseUrl: string,
  request: HttpBackendRequest,
  principal: Principal,
  timeoutMs: number = INTEGRATION_TIMEOUT_MS,
): Promise<HttpBackendResult> {
  const url = targetUrl(baseUrl, request.path, request.query);
  const secure = url.protocol === 'https:';
  const send = secure ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: HttpBackendResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const outgoing = send(url, { method: request.method, headers: forwardedHeaders(request.headers, principal, request.body), agent: secure ? AGENTS.https : AGENTS.http }, (response) => {
      finish({ ok: true, status: response.statusCode ?? 502, headers: responseHeaders(response.headers), body: response });
    });
    const timer = setTimeout(() => {
      finish({ ok: false, status: 504, message: 'Endpoint request timed out' });
      outgoing.destroy();
    }, timeoutMs);
    outgoing.on('error', () => {
      finish({ ok: false, status: 502, message: 'The backend could not be reached' });
    });
    outgoing.end(request.body !== undefined && request.body.length > 0 ? request.body : undefined);
  });
}
