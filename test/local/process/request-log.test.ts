import type { AddressInfo } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '#local/gateway/gateway.ts';
import { RequestLog } from '#local/process/request-log.ts';
import { closeServer, createServer } from '#local/process/server.ts';

const ENTRY = { method: 'GET', path: '/v2/things', status: 200, sourceIp: '127.0.0.1', durationMs: 3 };

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('RequestLog', () => {
  it('writes one JSON line per request with the structured logs\' fields and the entry\'s, nothing else', async () => {
    // Prepare
    const writes: string[] = [];
    const log = new RequestLog({ serviceName: 'svc', write: (chunk) => writes.push(chunk) });

    // Act
    log.record(ENTRY);
    await nextTurn();

    // Assess
    expect(writes).toHaveLength(1);
    expect(writes[0]?.endsWith('\n')).toBe(true);
    const line = JSON.parse(writes[0] ?? '') as Record<string, unknown>;
    expect(Object.keys(line).sort()).toEqual(['durationMs', 'level', 'message', 'method', 'path', 'service', 'sourceIp', 'status', 'timestamp']);
    expect(line).toMatchObject({ level: 'INFO', message: 'request', service: 'svc', ...ENTRY });
    expect(Number.isNaN(Date.parse(String(line.timestamp)))).toBe(false);
  });

  it('writes the lines of one turn of the event loop together, and the next turn\'s apart', async () => {
    // Prepare
    const writes: string[] = [];
    const log = new RequestLog({ write: (chunk) => writes.push(chunk) });

    // Act
    for (let i = 0; i < 3; i += 1) log.record({ ...ENTRY, status: 200 + i });
    expect(writes).toHaveLength(0);
    await nextTurn();
    log.record(ENTRY);
    await nextTurn();

    // Assess
    expect(writes).toHaveLength(2);
    expect(writes[0]?.split('\n').filter((l) => l !== '')).toHaveLength(3);
    expect(writes[1]?.split('\n').filter((l) => l !== '')).toHaveLength(1);
  });

  it('writes pending lines at once on flush, and nothing twice', async () => {
    const writes: string[] = [];
    const log = new RequestLog({ write: (chunk) => writes.push(chunk) });
    log.record(ENTRY);
    log.flush();
    expect(writes).toHaveLength(1);
    await nextTurn();
    expect(writes).toHaveLength(1);
  });

  it('follows the logger\'s level: no request lines above INFO', () => {
    expect(RequestLog.of(new Logger({ logLevel: 'WARN' }))).toBeUndefined();
    expect(RequestLog.of(new Logger({ logLevel: 'ERROR' }))).toBeUndefined();
    expect(RequestLog.of(new Logger({ logLevel: 'INFO' }))).toBeInstanceOf(RequestLog);
    expect(RequestLog.of(new Logger({ logLevel: 'DEBUG' }))).toBeInstanceOf(RequestLog);
  });
});

describe('the local server\'s request lines', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('name the path without its query, and carry no header (keys included)', async () => {
    // Prepare
    const writes: string[] = [];
    const gateway: Gateway = {
      stage: 'local',
      maxBodyBytes: 1024,
      handle: () => Promise.resolve({ status: 204, headers: {}, body: '', isBase64Encoded: false }),
    };
    const server = createServer({ gateway, console: () => Promise.resolve(undefined), requestLog: new RequestLog({ write: (chunk) => writes.push(chunk) }) });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    close = () => closeServer(server);
    const port = (server.address() as AddressInfo).port;

    // Act
    const response = await fetch(`http://127.0.0.1:${String(port)}/v2/things?x-api-secret-key=in-the-query`, {
      headers: { 'x-api-key': 'account-key-value', 'x-api-secret-key': 'user-key-value' },
    });
    await nextTurn();

    // Assess
    expect(response.status).toBe(204);
    const text = writes.join('');
    expect(JSON.parse(text)).toMatchObject({ message: 'request', method: 'GET', path: '/v2/things', status: 204, sourceIp: '127.0.0.1' });
    for (const secret of ['account-key-value', 'user-key-value', 'in-the-query']) expect(text).not.toContain(secret);
  });
});
