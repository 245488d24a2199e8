import type { Context } from 'aws-lambda';

/** The region and AWS account the local stand-ins name in their ARNs. */
export const LOCAL_REGION = 'local';
export const LOCAL_AWS_ACCOUNT_ID = '000000000000';
/** API Gateway REST's integration timeout: the most a handler has, whatever its own timeout. */
const INTEGRATION_TIMEOUT_MS = 29_000;

/**
 * The Lambda context a handler gets, as the Lambda runtime makes it for function
 * `latchkey-<name>`; the remaining time counts down from `startedAt`.
 */
export function lambdaContext(name: string, requestId: string, startedAt: number): Context {
  const functionName = `latchkey-${name}`;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_AWS_ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, startedAt + INTEGRATION_TIMEOUT_MS - Date.now()),
    // The Context type still requires the callback-era methods; no handler here uses them.
    /* eslint-disable @typescript-eslint/no-deprecated */
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
    /* eslint-enable @typescript-eslint/no-deprecated */
  };
}
