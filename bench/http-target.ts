import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createTable } from '#shared/adapters/create-table.ts';
import { LocalSecrets } from '#local/storage/local-secrets.ts';
import { SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import { MAX_BURST_LIMIT, MAX_RATE_LIMIT, type Plan } from '#shared/domain/plan.ts';
import { ensurePepper } from '#shared/authorization/peppers.ts';
import { createAccount } from '#shared/services/accounts.ts';
import { createLocalApp } from '#local/process/app.ts';
import { createLocalDownstream, upstreamRoutes } from '#local/gateway/downstream.ts';
import { localDynamoDbClients } from '#local/process/runtime-files.ts';
import { closeServer, createServer } from '#local/process/server.ts';

/**
 * A server for the HTTP benchmark, run in its own process so that the load generator does not
 * share its event loop. `local-runtime <endpoint> <table> <ttl> limiter-on|limiter-off [upstream]`: the local runtime as `npm
 * start` wires it (gateway emulator, authorizer with its cache, handlers, request log) on a
 * fresh table with one account, and `--upstream` when a fifth argument names one. `bare <status> <content-type> <body>`: node:http answering that
 * response to every request. Reports its port (and the account's keys) to the parent over IPC.
 */
export type TargetReady =
  | { readonly kind: 'local-runtime'; readonly port: number; readonly accountKey: string; readonly userKey: string }
  | { readonly kind: 'bare'; readonly port: number };

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (typeof address === 'object' && address !== null) resolve(address.port);
      else reject(new Error('the server has no port'));
    });
  });
}

/** A plan the load never reaches: the limiter does all its work and lets every request through. */
const UNREACHED_PLAN: Plan = { rateLimit: MAX_RATE_LIMIT, burstLimit: MAX_BURST_LIMIT, quota: null };

async function startLocalRuntime(
  endpoint: string,
  tableName: string,
  ttl: number,
  limiter: boolean,
  upstream: string | undefined,
): Promise<{ server: Server; ready: TargetReady }> {
  const { raw, documentClient } = localDynamoDbClients(endpoint);
  await createTable(raw, tableName);
  const secrets = new LocalSecrets(randomBytes(32));
  // `npm start -- --upstream URL` when an upstream is given.
  const downstream = upstream === undefined ? undefined : await createLocalDownstream(upstreamRoutes(upstream));
  const app = createLocalApp({
    documentClient,
    tableName,
    secrets,
    authorizerTtlSeconds: ttl,
    defaultPlan: UNREACHED_PLAN,
    limitRequests: limiter,
    ...(downstream === undefined ? {} : { downstream }),
  });
  await ensurePepper(app.store, secrets);
  const created = await createAccount(
    app.apiDeps,
    { name: 'bench http', ownerName: 'Bench Owner', ownerEmail: 'owner@example.com' },
    SYSTEM_ACTOR,
  );
  const server = createServer({ gateway: app.gateway, logger: app.apiDeps.logger });
  const port = await listen(server);
  return { server, ready: { kind: 'local-runtime', port, accountKey: created.accountKey, userKey: created.userKey } };
}

async function startBare(status: number, contentType: string, body: string): Promise<{ server: Server; ready: TargetReady }> {
  const payload = Buffer.from(body, 'utf8');
  const server = createHttpServer((_request, response) => {
    response.writeHead(status, { 'content-type': contentType, 'content-length': String(payload.length) });
    response.end(payload);
  });
  const port = await listen(server);
  return { server, ready: { kind: 'bare', port } };
}

async function main(): Promise<void> {
  const [mode, ...args] = process.argv.slice(2);
  const started =
    mode === 'local-runtime'
      ? await startLocalRuntime(args[0]!, args[1]!, Number(args[2]), args[3] !== 'limiter-off', args[4])
      : mode === 'bare'
        ? await startBare(Number(args[0]), args[1]!, args[2]!)
        : undefined;
  if (started === undefined) throw new Error(`unknown mode '${String(mode)}'`);
  const stop = (): void => {
    void closeServer(started.server).finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('disconnect', stop);
  process.send?.(started.ready);
}

main().catch((error: unknown) => {
  console.error('benchmark server failed:', error);
  process.exit(1);
});
