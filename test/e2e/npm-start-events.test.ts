import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { EVENTS_SECRET_VARIABLE } from '#local/stream/webhooks.ts';
import { type WebhookReceiver, newEventsSecret, startWebhookReceiver } from '#test/support/webhook-receiver.ts';
import { call } from './support.ts';
import { STARTUP_MS, children, startRuntime, stopRuntime } from './runtime-process.ts';

/** `npm start -- --events-url URL` as a user runs it: refused without a good secret, else every audit event sent signed. */

const run = promisify(execFile);
const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-events-'));
const receivers: WebhookReceiver[] = [];

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const receiver of receivers) await receiver.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The runtime's exit code and output when it refuses to start. */
async function refusal(args: readonly string[], secret: string | undefined): Promise<{ code: number; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, LATCHKEY_LOCAL_DIR: join(dataDir, 'refused') };
  if (secret === undefined) Reflect.deleteProperty(env, EVENTS_SECRET_VARIABLE);
  else env[EVENTS_SECRET_VARIABLE] = secret;
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'local/process/main.ts', '--memory', ...args], { env, timeout: 60_000 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

describe('npm start --events-url', () => {
  it.each([
    ['no secret', undefined],
    ['a secret without whsec_', Buffer.alloc(32, 3).toString('base64')],
    ['a secret too short', `whsec_${Buffer.alloc(4, 3).toString('base64')}`],
  ])('refuses to start with %s, naming the variable and never echoing the value', async (_case, secret) => {
    const { code, output } = await refusal(['--events-url', 'http://127.0.0.1:9/events'], secret);
    expect(code).toBe(2);
    expect(output).toContain(`--events-url needs a signing secret: ${EVENTS_SECRET_VARIABLE}`);
    if (secret !== undefined) expect(output).not.toContain(secret);
  }, 60_000);

  it('refuses a URL that is not http or https', async () => {
    const { code, output } = await refusal(['--events-url', 'ftp://127.0.0.1/events'], newEventsSecret());
    expect(code).toBe(2);
    expect(output).toContain('--events-url must be an http or https URL');
  }, 60_000);

  it(
    'sends the first account and a key made over HTTP as signed webhooks, and never prints the secret',
    async () => {
      const secret = newEventsSecret();
      const receiver = await startWebhookReceiver(secret);
      receivers.push(receiver);
      process.env[EVENTS_SECRET_VARIABLE] = secret;
      const started = await startRuntime(['--memory', '--events-url', `${receiver.url}?token=e2e-receiver-token`], join(dataDir, 'memory'));
      Reflect.deleteProperty(process.env, EVENTS_SECRET_VARIABLE);
      const keys = started.keys;
      if (keys === undefined) throw new Error(`no export lines in:\n${started.output()}`);

      const users = await call(started.port, '/v1/users', { keys });
      const ownerId = (users.json.items as { id: string }[])[0]?.id;
      const newKey = await call(started.port, '/v1/api-keys', { method: 'POST', keys, body: { name: 'made-for-webhooks', userId: ownerId } });
      expect(newKey.status).toBe(201);
      const deadline = Date.now() + 30_000;
      while (!receiver.verified().some((s) => s.data.target === `api-key/${newKey.json.id as string}`) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const code = await stopRuntime(started, 'SIGTERM');

      const types = receiver.verified().map((s) => s.type);
      expect(types).toContain('account.create');
      expect(types.at(-1)).toBe('api-key.create');
      expect(started.output()).toContain(`Audit events are sent as signed webhooks to ${new URL(receiver.url).origin}`);
      expect(started.output()).not.toContain(secret.slice('whsec_'.length));
      expect(started.output()).not.toContain('e2e-receiver-token');
      expect(code).toBe(0);
    },
    STARTUP_MS + 60_000,
  );
});
