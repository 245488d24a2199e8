import { randomBytes } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { createTable } from '#shared/adapters/create-table.ts';
import { LocalSecrets } from '#local/storage/local-secrets.ts';
import { SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import { ensurePepper } from '#shared/authorization/peppers.ts';
import { createAccount } from '#shared/services/accounts.ts';
import { buildConsole } from '#infra/console/build.ts';
import { createLocalApp } from '#local/process/app.ts';
import { localDynamoDbClients } from '#local/process/runtime-files.ts';
import { closeServer, createServer } from '#local/process/server.ts';
import { launchChromium } from '#test/support/browser.ts';
import type { Figure } from './report.ts';
import { median } from './stats.ts';

const GROUP = '8 console';
const RUNS = 7;

/**
 * The console's weight and speed: the gzipped size of what a browser downloads (page, script,
 * stylesheet, as the build serves them), and in headless Chromium against the local runtime the
 * time from navigation to the sign-in form, and from `Sign in` to the first row of the key
 * table (which takes the whoami, account, keys and users requests). A fresh browser context per
 * run, so nothing is cached.
 */
export async function benchConsole(endpoint: string): Promise<{ figures: Figure[]; details: unknown }> {
  const assets = await buildConsole();
  const sizes = Object.fromEntries([...assets].map(([name, asset]) => [name, { raw: asset.body.length, gzip: gzipSync(asset.body, { level: 9 }).length }]));
  const scriptAndStyle = (sizes['app.js']?.gzip ?? 0) + (sizes['app.css']?.gzip ?? 0);
  const all = Object.values(sizes).reduce((sum, s) => sum + s.gzip, 0);

  const { raw, documentClient } = localDynamoDbClients(endpoint);
  const tableName = `bench-console-${randomBytes(4).toString('hex')}`;
  await createTable(raw, tableName);
  const secrets = new LocalSecrets(randomBytes(32));
  const app = createLocalApp({
    documentClient,
    tableName,
    secrets,
    authorizerTtlSeconds: 300,
    logger: new Logger({ serviceName: 'bench-console', logLevel: 'SILENT' }),
  });
  await ensurePepper(app.store, secrets);
  const account = await createAccount(app.apiDeps, { name: 'bench console', ownerName: 'Bench Owner', ownerEmail: 'owner@example.com' }, SYSTEM_ACTOR);
  const server = createServer({ gateway: app.gateway });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  const browser = await launchChromium();
  const toForm: number[] = [];
  const toTable: number[] = [];
  try {
    for (let run = 0; run <= RUNS; run += 1) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const started = performance.now();
      await page.goto(`${origin}/console`);
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      const formShown = performance.now();
      await page.getByLabel('Account key').fill(account.accountKey);
      await page.getByLabel('User key').fill(account.userKey);
      const signIn = performance.now();
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('row', { name: /owner-initial-key/ }).waitFor();
      const tableShown = performance.now();
      await context.close();
      // The first run warms the server, the authorizer cache and the build; it is not counted.
      if (run === 0) continue;
      toForm.push(formShown - started);
      toTable.push(tableShown - signIn);
    }
  } finally {
    await browser.close();
    await closeServer(server);
    raw.destroy();
  }

  const method = `headless Chromium (Debian), local runtime on DynamoDB Local, median of ${String(RUNS)} fresh contexts after one warm-up`;
  return {
    figures: [
      { group: GROUP, name: 'script + stylesheet, gzipped', value: scriptAndStyle / 1024, unit: 'KiB', method: 'esbuild build as served, gzip -9' },
      { group: GROUP, name: 'page + script + stylesheet, gzipped', value: all / 1024, unit: 'KiB', method: 'esbuild build as served, gzip -9' },
      { group: GROUP, name: 'navigation to the sign-in form', value: median(toForm), unit: 'ms', method },
      { group: GROUP, name: 'Sign in to the first key row', value: median(toTable), unit: 'ms', method },
      { group: GROUP, name: 'navigation to the first key row (form filled at once)', value: median(toForm) + median(toTable), unit: 'ms', method },
    ],
    details: { sizes, toFormMs: toForm, toTableMs: toTable },
  };
}
