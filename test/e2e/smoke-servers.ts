import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execFile } from 'node:child_process';
import { call, type Credentials } from './support.ts';

/**
 * What the smoke test is run against besides `npm start`: servers broken on purpose, and the
 * smoke test itself as a person runs it.
 */

export interface SmokeRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `npm run smoke -- ARGS` with the owner's keys in the environment, as docs/deploy.md runs it. */
export function runSmoke(args: readonly string[], keys: Credentials, timeoutMs = 120_000): Promise<SmokeRun> {
  return new Promise((resolve) => {
    execFile(
      'node',
      ['--import', 'tsx', 'smoke/main.ts', ...args],
      { timeout: timeoutMs, env: { ...process.env, LATCHKEY_ACCOUNT_KEY: keys.accountKey, LATCHKEY_USER_KEY: keys.userKey } },
      (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
      },
    );
  });
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/**
 * A server that answers 200 to everything, and echoes the request's key headers: the smoke test
 * must fail it and, quoting its answers, still print no key.
 */
export async function startYesServer(): Promise<{ port: number; server: Server }> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ echo: { 'x-api-key': req.headers['x-api-key'], 'x-api-secret-key': req.headers['x-api-secret-key'] } }));
  });
  return { port: await listen(server), server };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

/**
 * A gateway that never revokes: a proxy in front of the runtime that remembers each pair of
 * keys it saw accepted and keeps answering 200 with the remembered answer once the runtime
 * refuses them (401), as a stage whose authorizer cache is never flushed would.
 */
export async function startNeverRevokingProxy(upstreamPort: number): Promise<{ port: number; server: Server }> {
  const accepted = new Map<string, { status: number; body: Buffer; contentType: string }>();
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const identity = JSON.stringify([req.headers['x-api-key'], req.headers['x-api-secret-key'], req.method, req.url]);
      const upstream = await new Promise<{ status: number; body: Buffer; contentType: string }>((resolve, reject) => {
        const forwarded = httpRequest(
          { host: '127.0.0.1', port: upstreamPort, path: req.url, method: req.method, headers: req.headers, agent: false },
          (answer) => {
            void readBody(answer).then((answerBody) => {
              resolve({ status: answer.statusCode ?? 502, body: answerBody, contentType: answer.headers['content-type'] ?? 'application/json' });
            }, reject);
          },
        );
        forwarded.on('error', reject);
        forwarded.end(body);
      });
      const remembered = accepted.get(identity);
      const served = upstream.status === 401 && remembered !== undefined ? remembered : upstream;
      if (upstream.status === 200 && req.headers['x-api-secret-key'] !== undefined) accepted.set(identity, upstream);
      res.writeHead(served.status, { 'content-type': served.contentType });
      res.end(served.body);
    })().catch(() => {
      res.writeHead(502).end();
    });
  });
  return { port: await listen(server), server };
}

/** The ids of the account's users and keys, sorted: what the smoke test must leave as it found it. */
export async function usersAndKeys(port: number, owner: Credentials): Promise<{ users: string[]; keys: string[] }> {
  const users = await call(port, '/v1/users', { keys: owner });
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await call(port, `/v1/api-keys?limit=100${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`, { keys: owner });
    if (page.status !== 200) throw new Error(`listing keys: ${page.status} ${page.text}`);
    keys.push(...(page.json.items as { id: string }[]).map((key) => key.id));
    cursor = (page.json.nextCursor as string | null | undefined) ?? undefined;
  } while (cursor !== undefined);
  if (users.status !== 200) throw new Error(`listing users: ${users.status} ${users.text}`);
  return { users: (users.json.items as { id: string }[]).map((user) => user.id).sort(), keys: keys.sort() };
}

export function closeQuietly(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => {
      resolve();
    });
  });
}
