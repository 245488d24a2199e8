import { randomBytes } from 'node:crypto';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { formatAccountKey, formatUserKey, maskAccountKey } from '#shared/domain/key-format.ts';
import type { PepperRing } from '#shared/domain/hashing.ts';
import { newId } from '#shared/domain/ids.ts';
import type { AccountRecord, ApiKeyRecord } from '#shared/domain/model.ts';
import { requestIdentity } from '#shared/http/request-identity.ts';

/** A caller's two keys and the records a store holds for them. */
export interface Credentials {
  readonly accountKey: string;
  readonly userKey: string;
  readonly account: AccountRecord;
  readonly key: ApiKeyRecord;
}

export const BENCH_SOURCE_IP = '127.0.0.1';

/**
 * An account and one owner key, digested with the ring's current pepper exactly as account
 * creation does. The account key ciphertext is random bytes: the authorizer never reads it.
 */
export function makeCredentials(ring: PepperRing, options: { accountId?: string; userId?: string; keyName?: string; cidrs?: readonly string[] } = {}): Credentials {
  const accountId = options.accountId ?? newId();
  const accountKey = formatAccountKey(accountId);
  const accountDigest = ring.digest(accountKey);
  const at = new Date().toISOString();
  const account: AccountRecord = {
    id: accountId,
    name: 'bench',
    apiEnabled: true,
    accountKeyMasked: maskAccountKey(accountKey),
    createdAt: at,
    accountKeyHash: accountDigest.hash,
    accountKeyPepperVersion: accountDigest.pepperVersion,
    accountKeyCiphertext: randomBytes(64),
  };
  return { accountKey, account, ...makeKey(ring, accountId, options) };
}

export function makeKey(
  ring: PepperRing,
  accountId: string,
  options: { userId?: string; keyName?: string; cidrs?: readonly string[]; keyId?: string; secret?: string } = {},
): { readonly userKey: string; readonly key: ApiKeyRecord } {
  const keyId = options.keyId ?? newId();
  const userKey = formatUserKey(accountId, keyId, options.secret);
  const digest = ring.digest(userKey);
  const at = new Date().toISOString();
  return {
    userKey,
    key: {
      id: keyId,
      accountId,
      name: options.keyName ?? `bench-key-${keyId}`,
      userId: options.userId ?? newId(),
      role: 'owner',
      createdAt: at,
      lastUsedAt: null,
      cidrAllowList: (options.cidrs ?? []).map((cidr) => ({ id: newId(), cidr, createdAt: at })),
      createdBy: { userId: null, keyId: null },
      secretHash: digest.hash,
      pepperVersion: digest.pepperVersion,
    },
  };
}

/** A REST API REQUEST authorizer event as API Gateway sends it for `GET /v1/whoami`. */
export function authorizerEvent(accountKey: string, userKey: string, sourceIp = BENCH_SOURCE_IP): APIGatewayRequestAuthorizerEvent {
  const headers = { Accept: 'application/json', Host: 'bench.execute-api.us-east-1.amazonaws.com', 'x-api-key': accountKey, 'x-api-secret-key': userKey };
  return {
    type: 'REQUEST',
    methodArn: 'arn:aws:execute-api:us-east-1:123456789012:bench12345/prod/GET/v1/whoami',
    resource: '/v1/whoami',
    path: '/v1/whoami',
    httpMethod: 'GET',
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'bench12345',
      authorizer: undefined,
      protocol: 'HTTP/1.1',
      httpMethod: 'GET',
      path: '/prod/v1/whoami',
      stage: 'prod',
      requestId: 'bench',
      requestTimeEpoch: Date.now(),
      resourceId: 'bench',
      resourcePath: '/v1/whoami',
      identity: requestIdentity(sourceIp, 'latchkey-bench'),
    },
  };
}

/**
 * Runs `work` with process.stdout writes dropped. The authorizer logs one JSON line per
 * decision; the line is still built (that cost is part of a decision), it just is not written
 * to the terminal, where it would bury the results and time the terminal instead. `countBytes`
 * hears the size of each write (what CloudWatch Logs would ingest).
 */
export async function withStdoutDiscarded<T>(work: () => Promise<T>, countBytes?: (bytes: number) => void): Promise<T> {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk: unknown) => {
    if (countBytes !== undefined) countBytes(typeof chunk === 'string' ? Buffer.byteLength(chunk, 'utf8') : chunk instanceof Uint8Array ? chunk.length : 0);
    return true;
  };
  try {
    return await work();
  } finally {
    process.stdout.write = write;
  }
}
