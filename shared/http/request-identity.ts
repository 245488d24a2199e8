import type { APIGatewayEventIdentity } from 'aws-lambda';

/**
 * The caller's identity as payload 1.0 events carry it: only the source address and user agent
 * are known (the local gateway's REST events, and HTTP API's 2.0 events read in 1.0's shape).
 */
export function requestIdentity(sourceIp: string, userAgent: string | undefined): APIGatewayEventIdentity {
  return {
    accessKey: null,
    accountId: null,
    apiKey: null,
    apiKeyId: null,
    caller: null,
    clientCert: null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
    sourceIp,
    user: null,
    userAgent: userAgent ?? null,
    userArn: null,
  };
}
