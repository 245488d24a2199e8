import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { buildOpenApiDocument } from '#shared/http/openapi.ts';
import { localConsole, type ConsoleHandler } from './console.ts';
import type { Gateway } from '../gateway/gateway.ts';
import { gatewayError, type GatewayResponse } from '../gateway/gateway-responses.ts';
import { httpApiError } from '../gateway/http-api-responses.ts';
import { RequestLog } from './request-log.ts';
import { LOCAL_REFRESH_PATH, LOCAL_TOKEN_HEADER } from './runtime-files.ts';

export interface LocalServerOptions {
  readonly gateway: Gateway;
  /** Served at `GET /openapi.json` without keys. @default the document built from the route table */
  readonly openApiDocument?: () => unknown;
  /** Run by `GET /health`; a rejection answers 503. @default always healthy */
  readonly checkHealth?: () => Promise<void>;
  /** Faults; and, at level INFO or below, one line per request (RequestLog). */
  readonly logger?: Logger;
  /** @default RequestLog.of(logger) when a logger is given, else none */
  readonly requestLog?: RequestLog;
  /**
   * Lets the admin CLI on this machine make its changes take effect at once (`POST
   * /_local/refresh` from a loopback address with this token). Absent: that path is unknown.
   */
  readonly control?: { readonly token: string; readonly refresh: () => Promise<void> };
  /** Serves `GET /console` (no keys) and leads `GET /` there. @default the console, built on first use */
  readonly console?: ConsoleHandler;
}

/**
 * The caller's address as API Gateway sees it: the TCP peer, never a header. X-Forwarded-For,
 * Forwarded and X-Real-IP are whatever the caller chose to write, so trusting them would let
 * anyone step around a CIDR allow list. IPv4 clients of a dual-stack socket appear as
 * IPv4-mapped IPv6 (`::ffff:a.b.c.d`); rules are written for the IPv4 form.
 */
export function peerAddress(remoteAddress: string | undefined): string | undefined {
  if (remoteAddress === undefined) return undefined;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(remoteAddress);
  return mapped?.[1] ?? remoteAddress;
}

function splitTarget(url: string): { path: string; query: string } {
  // Absolute-form targets (`GET http://host/path`) are legal HTTP/1.1; only the path counts.
  const target = url.startsWith('/') ? url : (() => {
    try {
      const parsed = new URL(url);
      return `${parsed.pathname}${parsed.search}`;
    } catch {
      return url;
    }
  })();
  const at = target.indexOf('?');
  return at === -1 ? { path: target, query: '' } : { path: target.slice(0, at), query: target.slice(at + 1) };
}

type BodyRead = { readonly ok: true; readonly body: string; readonly raw: Buffer } | { readonly ok: false };

/**
 * Reads the body up to `maxBytes`. Past the limit the rest is read and dropped rather than
 * kept, so memory stays bounded and the client still gets its 413 instead of a reset.
 */
function readBody(request: IncomingMessage, maxBytes: number): Promise<BodyRead> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length']);
    let tooLarge = Number.isFinite(declared) && declared > maxBytes;
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
    });
    request.on('end', () => {
      const raw = Buffer.concat(chunks);
      resolve(tooLarge ? { ok: false } : { ok: true, body: raw.toString('utf8'), raw });
    });
    request.on('error', reject);
  });
}

function send(response: ServerResponse, result: GatewayResponse): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers)) headers[name] = typeof value === 'string' ? value : [...value];
  if (result.stream !== undefined) {
    // An HTTP backend's answer, passed on as it arrives (its own content-length, if any, holds).
    response.writeHead(result.status, headers);
    result.stream.pipe(response);
    result.stream.on('error', () => response.destroy());
    return;
  }
  const body = result.isBase64Encoded ? Buffer.from(result.body, 'base64') : Buffer.from(result.body, 'utf8');
  headers['content-length'] = String(body.length);
  response.writeHead(result.status, headers);
  response.end(body);
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.');
}

function tokenMatches(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(presented, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

function json(status: number, value: unknown): GatewayResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value), isBase64Encoded: false };
}

/**
 * The local runtime's HTTP front: every request goes through the gateway emulator (keys,
 * authorizer, policy), except the two unauthenticated local paths, which API Gateway does
 * not serve and which disclose nothing about any account.
 */
export function createServer(options: LocalServerOptions): Server {
  const { gateway, logger } = options;
  const requestLog = options.requestLog ?? (logger === undefined ? undefined : RequestLog.of(logger));
  let openApi: string | undefined;
  const consoleSite = options.console ?? localConsole();

  async function respond(request: IncomingMessage, sourceIp: string): Promise<GatewayResponse> {
    const method = (request.method ?? 'GET').toUpperCase();
    const { path, query } = splitTarget(request.url ?? '/');
    const read = await readBody(request, gateway.maxBodyBytes);
    if (!read.ok) return (gateway.flavor === 'http' ? httpApiError : gatewayError)('request-too-large');

    if (method === 'GET' && path === '/health') {
      try {
        await options.checkHealth?.();
        return json(200, { status: 'ok' });
      } catch (error) {
        logger?.error('health check failed', { error });
        return json(503, { status: 'unavailable' });
      }
    }
    const { control } = options;
    if (method === 'POST' && path === LOCAL_REFRESH_PATH && control !== undefined) {
      const token = request.headersDistinct[LOCAL_TOKEN_HEADER];
      // From this machine only: loopback, or (when listening on one of its addresses) that same address.
      const fromThisHost = isLoopback(sourceIp) || sourceIp === peerAddress(request.socket.localAddress);
      if (!fromThisHost || token?.length !== 1 || !tokenMatches(token[0], control.token)) {
        return json(403, { message: 'Forbidden' });
      }
      await control.refresh();
      return { status: 204, headers: {}, body: '', isBase64Encoded: false };
    }
    if (method === 'GET' && path === '/openapi.json') {
      openApi ??= JSON.stringify((options.openApiDocument ?? buildOpenApiDocument)());
      return { status: 200, headers: { 'content-type': 'application/json' }, body: openApi, isBase64Encoded: false };
    }
    const site = await consoleSite(method, path);
    if (site !== undefined) return site;
    return gateway.handle({
      method,
      path,
      query,
      headers: request.headersDistinct,
      body: read.body,
      rawBody: read.raw,
      sourceIp,
    });
  }

  const server = createHttpServer((request, response) => {
    const startedAt = Date.now();
    const sourceIp = peerAddress(request.socket.remoteAddress);
    if (sourceIp === undefined) {
      // The connection is already gone: there is nobody to answer.
      response.destroy();
      return;
    }
    respond(request, sourceIp)
      .catch((error: unknown) => {
        logger?.error('request failed', { error });
        return json(500, { message: 'Internal server error' });
      })
      .then((result) => {
        send(response, result);
        requestLog?.record({
          method: request.method ?? 'GET',
          path: splitTarget(request.url ?? '/').path,
          status: result.status,
          sourceIp,
          durationMs: Date.now() - startedAt,
        });
      })
      .catch((error: unknown) => {
        logger?.error('response failed', { error });
        response.destroy();
      });
  });
  server.on('close', () => requestLog?.flush());
  return server;
}

/** Stops accepting connections and ends the open ones, so the port is free when this resolves. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => {
      if (error === undefined) resolve();
      else reject(error);
    });
    server.closeAllConnections();
  });
}
