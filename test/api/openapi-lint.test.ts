import { execFile } from 'node:child_process';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '#shared/http/openapi.ts';
import { ROUTES } from '#shared/http/routes.ts';

/** What test/support/no-network.ts writes for each attempt (not imported: importing it would cut this process off). */
const NETWORK_ATTEMPT = 'NETWORK-ATTEMPT';

/**
 * openapi.json passes Redocly's recommended rules (redocly.yaml) with no error and no warning,
 * offline: telemetry and update checks are off, and any network attempt would show.
 */

interface Run {
  readonly code: number;
  readonly output: string;
}

function offline(args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--import', './test/support/no-network.ts', ...args],
      {
        timeout: 120_000,
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_NOTIFICATIONS: 'true', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      },
      (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, output: `${stdout}\n${stderr}` });
      },
    );
  });
}

describe('openapi.json under Redocly lint', () => {
  it('has no error and no warning under the recommended rules, and the linter makes no network call', async () => {
    // Act
    const lint = await offline(['node_modules/@redocly/cli/bin/cli.js', 'lint', 'openapi.json', '--config', 'redocly.yaml', '--format', 'summary']);

    // Assess
    expect(lint.output).not.toContain(NETWORK_ATTEMPT);
    expect(lint.output).not.toMatch(/^(error|warning)\s/m);
    expect(lint.output).toContain('Woohoo! Your API description is valid.');
    expect(lint.code).toBe(0);
  }, 120_000);

  it('would see a network attempt (the guard works)', async () => {
    const probe = await offline(['--eval', "fetch('http://example.com/').catch(() => undefined)"]);

    expect(probe.output).toContain(NETWORK_ATTEMPT);
  }, 60_000);
});

describe('what a generated client needs', () => {
  const document = buildOpenApiDocument() as {
    info: { license?: { name?: string }; contact?: { name?: string } };
    servers?: { url: string }[];
    tags: { name: string; description?: string }[];
    paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    components: { responses: Record<string, { content: Record<string, unknown> }>; schemas: Record<string, unknown> };
  };

  it('names servers, a license, a contact and a description for every tag', () => {
    expect(document.servers?.map((server) => server.url)).toEqual([
      'https://{restApiId}.execute-api.{region}.amazonaws.com/{stage}',
      'http://127.0.0.1:3000',
    ]);
    expect(document.info.license?.name).toEqual(expect.any(String));
    expect(document.info.contact?.name).toEqual(expect.any(String));
    expect(document.tags.map((tag) => tag.name).sort()).toEqual([...new Set(ROUTES.map((route) => route.group))].sort());
    for (const tag of document.tags) expect(tag.description, tag.name).toEqual(expect.any(String));
  });

  it("documents API Gateway's own bodies on every route: 429 when throttled, {\"message\": null} for an authorizer fault", () => {
    const gatewayMessage = new Ajv2020({ strict: false }).compile(document.components.schemas.GatewayMessage as object);

    for (const route of ROUTES) {
      const responses = document.paths[route.path]?.[route.method.toLowerCase()]?.responses ?? {};
      expect(responses['429'], route.operationId).toEqual({ $ref: '#/components/responses/TooManyRequests' });
      expect(responses['500'], route.operationId).toEqual({ $ref: '#/components/responses/InternalError' });
    }
    expect(document.components.responses.TooManyRequests?.content).toHaveProperty('application/json');
    expect(document.components.responses.InternalError?.content).toHaveProperty('application/json');
    expect(gatewayMessage({ message: 'Too Many Requests' })).toBe(true);
    expect(gatewayMessage({ message: null })).toBe(true);
    expect(gatewayMessage({})).toBe(false);
  });
});
