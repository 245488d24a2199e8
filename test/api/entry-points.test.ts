import { DynamoDbAccountStore } from '#shared/adapters/dynamodb/account-store.ts';
import { DynamoDbKeyStore } from '#shared/adapters/dynamodb/key-store.ts';
import { describe, expect, it } from 'vitest';
import { onTable, tableApiDeps } from '#functions/commons/api-deps/table.ts';
import { usagePlanApiDeps } from '#functions/commons/api-deps/usage-plans.ts';
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

  it.each(['revocation-flusher', 'table-signals'])('functions/%s.ts (a consumer of the table stream) can be imported without any environment and exports a handler', async (name) => {
    // Prepare
    for (const variable of Object.values(ENV)) Reflect.deleteProperty(process.env, variable);

    // Act
    const module = (await import(`../../functions/${name}.ts`)) as { handler?: unknown };

    // Assess
    expect(typeof module.handler).toBe('function');
  });

  it('builds the dependencies of the account function (every client) only from a complete environment, naming what is missing', () => {
    // Prepare
    for (const name of Object.values(ENV)) Reflect.deleteProperty(process.env, name);
    process.env[ENV.tableName] = 'latchkey-table';
    process.env[ENV.kmsKeyId] = 'alias/latchkey';
    process.env[ENV.restApiId] = 'a1b2c3d4e5';

    // Act
    const build = () => usagePlanApiDeps(onTable(DynamoDbAccountStore));

    // Assess
    expect(build).toThrow(ENV.stageName);
    process.env[ENV.stageName] = 'prod';
    expect(build().limits).toEqual({ keysPerUser: 10, rulesPerKey: 20 });
    for (const name of Object.values(ENV)) Reflect.deleteProperty(process.env, name);
  });

  it('builds the dependencies of a function of the table alone from the table name: it reads nothing of KMS or API Gateway', () => {
    // Prepare
    for (const name of Object.values(ENV)) Reflect.deleteProperty(process.env, name);

    // Act
    const build = () => tableApiDeps(onTable(DynamoDbKeyStore));

    // Assess
    expect(build).toThrow(ENV.tableName);
    process.env[ENV.tableName] = 'latchkey-table';
    expect(Object.keys(build()).sort()).toEqual(['authorizerCache', 'limits', 'logger', 'now', 'store']);
    for (const name of Object.values(ENV)) Reflect.deleteProperty(process.env, name);
  });
});
