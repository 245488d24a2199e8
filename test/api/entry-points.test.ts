import { describe, expect, it } from 'vitest';
import { awsApiDeps } from '#functions/commons/api-deps.ts';
import { ENV } from '#shared/adapters/environment.ts';
import { FUNCTION_GROUPS } from '#shared/http/routes.ts';

describe('Lambda entry points', () => {
  it.each(FUNCTION_GROUPS)('functions/%s.ts can be imported without any environment and exports a handler', async (group) => {
    // Prepare
    for (const name of Object.values(ENV)) Reflect.deleteProperty(process.env, name);

    // Act
    const module = (await import(`../../functions/${group}.ts`)) as { handler?: unknown };

    // Assess
    expect(typeof module.handler).toBe('function');
  });

  it.each(['revocation-flusher', 'key-expiry'])('functions/%s.ts (a consumer of the table stream) can be imported without any environment and exports a handler', async (name) => {
    // Prepare
    for (const variable of Object.values(ENV)) Reflect.deleteProperty(process.env, variable);

    // Act
    const module = (await import(`../../functions/${name}.ts`)) as { handler?: unknown };

    // Assess
    expect(typeof module.handler).toBe('function');
  });

  it('builds its dependencies only from a complete environment, naming what is missing', () => {
    // Prepare
    for (const name of Object.values(ENV)) Reflect.deleteProperty(process.env, name);
    process.env[ENV.tableName] = 'latchkey-table';
    process.env[ENV.kmsKeyId] = 'alias/latchkey';
    process.env[ENV.restApiId] = 'a1b2c3d4e5';

    // Act
    const build = () => awsApiDeps();

    // Assess
    expect(build).toThrow(ENV.stageName);
    process.env[ENV.stageName] = 'prod';
    expect(build().limits).toEqual({ keysPerUser: 10, rulesPerKey: 20 });
    for (const name of Object.values(ENV)) Reflect.deleteProperty(process.env, name);
  });
});
