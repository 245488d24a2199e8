import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { apiSwitchPolicy, isApiSwitchMethodArn } from '#shared/authorization/api-switch.ts';
import { DynamoDbStore } from '#shared/adapters/dynamodb-store.ts';
import { DynamoDbDigestStore } from '#shared/adapters/dynamodb/digest-upgrades.ts';
import { DigestUpgrader } from '#shared/authorization/digest-upgrades.ts';
import { KmsSecrets } from '#shared/adapters/kms-secrets.ts';
import {
  ACCOUNT_KEY_HEADER,
  USER_KEY_HEADER,
  authorize,
  headerValues,
  SECRET_TAG_CONTEXT,
  VALID_UNTIL_CONTEXT,
  type AuthorizationDecision,
} from '#shared/authorization/decision.ts';
import { allowPolicy, apiBaseArn, denyAllPolicy } from '#shared/authorization/policies.ts';
import { ENV, requiredEnv } from '#shared/adapters/environment.ts';
import type { AuthorizerDeps } from '#shared/ports/deps.ts';
import { createPepperProvider } from '#shared/authorization/peppers.ts';
import { planContext } from '#shared/authorization/plan-context.ts';
import { routePolicyFromEnv } from '#shared/authorization/route-policy.ts';
import { documentClient } from './commons/clients/dynamodb.ts';
import { kmsClient } from './commons/clients/kms.ts';
import { createLogger } from './commons/logger.ts';

export type AuthorizerHandler = (event: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

/** A store or KMS failure: API Gateway answers 500 and caches nothing, and nobody is let in. */
export class AuthorizerFaultError extends Error {
  constructor(options?: ErrorOptions) {
    super('authorization could not be decided', options);
    this.name = 'AuthorizerFaultError';
  }
}

/**
 * The Lambda REQUEST authorizer. API Gateway REST turns a thrown `Error('Unauthorized')` into
 * 401 `{"message":"Unauthorized"}`; any other exception into 500; an explicit Deny into 403
 * "...with an explicit deny"; a route missing from an Allow policy into 403.
 */
export function createAuthorizerHandler(deps: AuthorizerDeps): AuthorizerHandler {
  return async (event) => {
    // Only the connection's address counts: X-Forwarded-For and friends are set by the caller.
    const sourceIp = event.requestContext.identity.sourceIp;
    const apiBase = apiBaseArn(event.methodArn);
    let decision: AuthorizationDecision;
    try {
      decision = await authorize(deps, {
        accountKey: headerValues(event.headers, event.multiValueHeaders, ACCOUNT_KEY_HEADER),
        userKey: headerValues(event.headers, event.multiValueHeaders, USER_KEY_HEADER),
        sourceIp,
        apiSwitchRoute: isApiSwitchMethodArn(apiBase, event.methodArn),
      });
    } catch (error) {
      deps.logger.error('authorization fault', { decision: 'fault', sourceIp, error });
      throw new AuthorizerFaultError({ cause: error });
    }

    switch (decision.outcome) {
      case 'deny-unauthorized':
        deps.logger.info('authorization decision', {
          decision: decision.outcome,
          reason: decision.reason,
          accountId: decision.accountId,
          keyId: decision.keyId,
          sourceIp,
        });
        throw new Error('Unauthorized');
      case 'deny-source-ip':
        deps.logger.info('authorization decision', {
          decision: decision.outcome,
          reason: 'source-ip-not-allowed',
          accountId: decision.principal.accountId,
          keyId: decision.principal.keyId,
          sourceIp,
        });
        return { principalId: decision.principal.userId, policyDocument: denyAllPolicy(apiBase) };
      case 'allow':
      case 'allow-api-switch': {
        const { principal } = decision;
        deps.logger.info('authorization decision', {
          decision: decision.outcome,
          reason: decision.outcome === 'allow' ? 'valid-keys' : 'valid-keys-api-disabled',
          accountId: principal.accountId,
          keyId: principal.keyId,
          role: principal.role,
          sourceIp,
        });
        return {
          principalId: principal.userId,
          // This authorizer's cache serves only the switch routes (shared/authorization/api-switch.ts), so the
          // restricted policy never answers another route.
          policyDocument:
            decision.outcome === 'allow' ? allowPolicy(principal.role, apiBase, deps.routePolicy) : apiSwitchPolicy(apiBase),
          context: {
            accountId: principal.accountId,
            userId: principal.userId,
            role: principal.role,
            keyId: principal.keyId,
            // Random labels of the two secrets, never the secrets or their digests: this context
            // reaches team backends and logs. Each write checks them against the table.
            [SECRET_TAG_CONTEXT.accountKey]: decision.presentedSecrets.accountKey,
            [SECRET_TAG_CONTEXT.userKey]: decision.presentedSecrets.userKey,
            ...planContext(decision.plan),
            // Cached with the Allow: the handlers and the local gateway refuse it past this time.
            ...(decision.validUntil === undefined ? {} : { [VALID_UNTIL_CONTEXT]: new Date(decision.validUntil).toISOString() }),
          },
          // The usage plan (key source AUTHORIZER) throttles and counts by this; it is no credential.
          ...(decision.usageIdentifierKey === undefined ? {} : { usageIdentifierKey: decision.usageIdentifierKey }),
        };
      }
    }
  };
}

function depsFromEnv(): AuthorizerDeps {
  const store = new DynamoDbStore(documentClient, requiredEnv(ENV.tableName));
  const secrets = new KmsSecrets(kmsClient, requiredEnv(ENV.kmsKeyId));
  const logger = createLogger('latchkey-authorizer');
  const digestUpgrades = new DigestUpgrader(new DynamoDbDigestStore(documentClient, requiredEnv(ENV.tableName)), logger);
  return {
    credentials: store,
    peppers: createPepperProvider(store, secrets),
    logger,
    digestUpgrades,
    routePolicy: routePolicyFromEnv(process.env[ENV.routePolicy]),
  };
}

let containerHandler: AuthorizerHandler | undefined;

/** Built on first use, once per container, so the pepper ring and SDK clients are reused. */
export const handler: AuthorizerHandler = (event) => {
  containerHandler ??= createAuthorizerHandler(depsFromEnv());
  return containerHandler(event);
};
