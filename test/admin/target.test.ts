import { parseArgs } from 'node:util';
import { ApiGatewayV2Client, ResetAuthorizersCacheCommand } from '@aws-sdk/client-apigatewayv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { OPTIONS, UsageError } from '#admin/options.ts';
import { awsTarget, requireUsagePlans } from '#admin/target.ts';

const apiGatewayV2 = mockClient(ApiGatewayV2Client);

/** The options as the admin CLI parses them from its command line. */
function valuesOf(args: readonly string[]): ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>['values'] {
  return parseArgs({ args: [...args], options: OPTIONS, allowPositionals: true, strict: true }).values;
}

const AWS = ['--table', 'latchkey', '--region', 'eu-west-1', '--kms-key-id', 'key-1'];

describe('admin CLI target: a deployment of the HTTP API flavor (--http-api-id)', () => {
  afterEach(() => {
    apiGatewayV2.reset();
  });

  it('resets that stage\'s authorizer cache with ResetAuthorizersCache', async () => {
    // Prepare
    apiGatewayV2.on(ResetAuthorizersCacheCommand).resolves({});
    const target = awsTarget(valuesOf([...AWS, '--http-api-id', 'a1b2c3', '--stage', 'prod']));

    // Act
    await target.authorizerCache.flush();
    await target.close();

    // Assess
    expect(apiGatewayV2.commandCalls(ResetAuthorizersCacheCommand).map((call) => call.args[0].input)).toEqual([{ ApiId: 'a1b2c3', StageName: 'prod' }]);
    expect(target.cacheWarning).toBeUndefined();
  });

  it('lets create-account and set-plan run without usage plans: plans are recorded, not enforced', async () => {
    const target = awsTarget(valuesOf([...AWS, '--http-api-id', 'a1b2c3', '--stage', 'prod']));
    const usagePlans = requireUsagePlans(target, 'create-account');
    expect(usagePlans.enforced).toBe(false);
    await target.close();
  });

  it('needs --stage, and refuses a REST API id beside it', () => {
    expect(() => awsTarget(valuesOf([...AWS, '--http-api-id', 'a1b2c3']))).toThrow(UsageError);
    expect(() => awsTarget(valuesOf([...AWS, '--http-api-id', 'a1b2c3', '--rest-api-id', 'r1', '--stage', 'prod']))).toThrow(/two flavors/);
  });

  it('still refuses create-account on AWS with neither API id', async () => {
    const target = awsTarget(valuesOf(AWS));
    expect(() => requireUsagePlans(target, 'create-account')).toThrow(/--http-api-id and --stage on the HTTP API flavor/);
    await target.close();
  });
});
