import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { createConsoleHandler, loadAssets, type ConsoleHandler } from '#functions/console.ts';
import type { ProxyEventV2 } from '#functions/commons/proxy-event.ts';
import { buildConsole, writeConsole } from '#infra/console/build.ts';

/** The deployed console function, on the events API Gateway sends to it (stage `prod` on the default endpoint). */

let handler: ConsoleHandler;

beforeAll(async () => {
  handler = createConsoleHandler(await buildConsole());
});

function event(path: string, method = 'GET'): APIGatewayProxyEvent {
  return {
    httpMethod: method,
    path,
    resource: path,
    requestContext: { path: `/prod${path}` },
    headers: {},
  } as unknown as APIGatewayProxyEvent;
}

describe('console function', () => {
  it('redirects / to the console under the stage', async () => {
    const response = await handler(event('/'));

    expect(response.statusCode).toBe(302);
    expect(response.headers?.location).toBe('/prod/console');
  });

  it('serves the page and its assets as text, under the Content-Security-Policy', async () => {
    const page = await handler(event('/console'));
    const script = await handler(event('/console/app.js'));
    const style = await handler(event('/console/app.css'));

    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<script type="module" src="console/app.js"></script>');
    expect(page.isBase64Encoded).toBeUndefined();
    expect(page.headers?.['content-security-policy']).toContain("default-src 'none'");
    expect(script.headers?.['content-type']).toBe('text/javascript; charset=utf-8');
    expect(style.headers?.['content-type']).toBe('text/css; charset=utf-8');
  });

  it('answers /favicon.ico with the icon, from the files bundled beside it, not a 403 of the gateway', async () => {
    // Prepare: the function's bundle holds what writeConsole writes, read back as the handler reads it.
    const directory = mkdtempSync(path.join(tmpdir(), 'latchkey-console-'));
    try {
      writeConsole(directory, await buildConsole());
      const bundled = createConsoleHandler(loadAssets(directory));

      // Act
      const icon = await bundled(event('/favicon.ico'));

      // Assess
      expect(icon.statusCode).toBe(200);
      expect(icon.headers?.['content-type']).toBe('image/svg+xml');
      expect(icon.body).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      expect(icon.headers?.['content-security-policy']).toContain("default-src 'none'");
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('answers 404 for anything else, and never serves a file outside its assets', async () => {
    for (const path of ['/console/nothing.js', '/console/..%2Fconsole.mjs', '/console/../index.mjs', '/v1/whoami']) {
      expect((await handler(event(path))).statusCode, path).toBe(404);
    }
  });
});

describe('console function on HTTP API payload 2.0', () => {
  function eventV2(rawPath: string, stage: string): ProxyEventV2 {
    return {
      version: '2.0',
      routeKey: 'GET /console',
      rawPath,
      rawQueryString: '',
      headers: {},
      isBase64Encoded: false,
      requestContext: { stage, http: { method: 'GET', path: rawPath, sourceIp: '203.0.113.7', protocol: 'HTTP/1.1', userAgent: 'vitest' } },
    } as unknown as ProxyEventV2;
  }

  it('redirects / to the console at the root on the $default stage, and under a named stage\'s segment', async () => {
    // Act
    const onDefault = await handler(eventV2('/', '$default'));
    const onNamed = await handler(eventV2('/prod/', 'prod'));

    // Assess
    expect(onDefault.headers?.location).toBe('/console');
    expect(onNamed.headers?.location).toBe('/prod/console');
  });

  it('serves the page on either stage', async () => {
    // Act
    const pages = [await handler(eventV2('/console', '$default')), await handler(eventV2('/prod/console', 'prod'))];

    // Assess
    for (const page of pages) expect(page.statusCode).toBe(200);
  });
});
