import type { APIGatewayProxyEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ConsoleAssets } from '#functions/commons/console-site.ts';
import { createConsoleHandler } from '#functions/console.ts';
import { buildConsole } from '#infra/console/build.ts';
import { localConsole } from '#local/process/console.ts';

/**
 * The console's Content-Security-Policy, read from the header itself, as the deployed console
 * function and the local server send it. The console holds a user's keys in the page: a script
 * that is not the project's own (injected inline, or loaded from elsewhere) could read them and
 * send them anywhere. The policy lets only this origin's files run, style and be fetched.
 */

type Policy = ReadonlyMap<string, readonly string[]>;

/** Directive name (lower case) to its sources; a repeated directive is kept as a list so a test sees it. */
function parsePolicy(header: string): { policy: Policy; repeated: string[] } {
  const policy = new Map<string, string[]>();
  const repeated: string[] = [];
  for (const part of header.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name === undefined || name === '') continue;
    const key = name.toLowerCase();
    // Browsers obey the first of two same-named directives and ignore the second: a loosened copy could hide either way.
    if (policy.has(key)) repeated.push(key);
    else policy.set(key, sources);
  }
  return { policy, repeated };
}

/** The fetch directives that, absent, fall back to default-src. */
const FETCH_DIRECTIVES = [
  'child-src',
  'connect-src',
  'font-src',
  'frame-src',
  'img-src',
  'manifest-src',
  'media-src',
  'object-src',
  'script-src',
  'script-src-elem',
  'script-src-attr',
  'style-src',
  'style-src-elem',
  'style-src-attr',
  'worker-src',
];

let assets: ConsoleAssets;

beforeAll(async () => {
  assets = await buildConsole();
});

function deployedEvent(path: string): APIGatewayProxyEvent {
  return { httpMethod: 'GET', path, resource: path, requestContext: { path: `/prod${path}` }, headers: {} } as unknown as APIGatewayProxyEvent;
}

/** Every console answer: the page, its script, stylesheet and icon, the redirect from `/`, and a 404. */
const CONSOLE_PATHS = ['/console', '/console/app.js', '/console/app.css', '/favicon.ico', '/', '/console/nothing.js'];

async function headersOfEveryAnswer(): Promise<{ where: string; headers: Record<string, unknown> }[]> {
  const deployed = createConsoleHandler(assets);
  const local = localConsole(() => Promise.resolve(assets));
  const answers: { where: string; headers: Record<string, unknown> }[] = [];
  for (const path of CONSOLE_PATHS) {
    answers.push({ where: `deployed ${path}`, headers: (await deployed(deployedEvent(path))).headers ?? {} });
    const served = await local('GET', path);
    if (served === undefined) throw new Error(`the local server does not serve ${path} as the console`);
    answers.push({ where: `local ${path}`, headers: served.headers });
  }
  return answers;
}

describe('the console Content-Security-Policy header', () => {
  it('is sent, enforced (not report-only), on every console answer, locally and deployed', async () => {
    for (const { where, headers } of await headersOfEveryAnswer()) {
      expect(typeof headers['content-security-policy'], where).toBe('string');
      expect(headers['content-security-policy-report-only'], where).toBeUndefined();
    }
  });

  it("allows no script but this origin's files: no inline script, no eval, no other host", async () => {
    for (const { where, headers } of await headersOfEveryAnswer()) {
      const { policy, repeated } = parsePolicy(String(headers['content-security-policy']));

      expect(repeated, where).toEqual([]);
      expect(policy.get('default-src'), where).toEqual(["'none'"]);
      expect(policy.get('script-src'), where).toEqual(["'self'"]);
      expect(policy.get('style-src'), where).toEqual(["'self'"]);
      expect(policy.get('connect-src'), where).toEqual(["'self'"]);
      // Absent, object-src falls back to default-src 'none': no plugin runs.
      expect(policy.get('object-src') ?? ["'none'"], where).toEqual(["'none'"]);
      for (const directive of FETCH_DIRECTIVES) {
        // 'unsafe-inline', 'unsafe-eval', nonces, hashes, hosts, schemes and * would each widen what runs or is fetched.
        for (const source of policy.get(directive) ?? []) expect(["'self'", "'none'"], `${where}: ${directive}`).toContain(source);
      }
    }
  });

  it('lets no other site frame the console, and no <base> or form move its requests elsewhere', async () => {
    for (const { where, headers } of await headersOfEveryAnswer()) {
      const { policy } = parsePolicy(String(headers['content-security-policy']));

      expect(policy.get('frame-ancestors'), where).toEqual(["'none'"]);
      expect(policy.get('base-uri'), where).toEqual(["'none'"]);
      expect(policy.get('form-action'), where).toEqual(["'self'"]);
    }
  });

  it('is one the page keeps to: every script it loads is a file of this origin', () => {
    const page = assets.get('index.html')?.body.toString('utf8') ?? '';
    const scripts = [...page.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];

    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes = '', body = ''] of scripts) {
      expect(attributes).toMatch(/\bsrc="console\/[\w.-]+\.js"/);
      expect(body.trim()).toBe('');
    }
    expect(page).not.toMatch(/\son[a-z]+\s*=/i);
    expect(page).not.toMatch(/<style\b|\sstyle\s*=/i);
  });
});
