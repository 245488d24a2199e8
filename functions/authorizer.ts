import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { APIGatewayAuthorizerResult, PolicyDocument } from 'aws-lambda';
import { apiSwitchPolicy } from '#shared/authorization/api-switch.ts';
import { type AuthorizerEvent, readAuthorizerEvent } from '#shared/authorization/authorizer-request.ts';
import { DynamoDbStore } from '#shared/adapters/dynamodb-store.ts';
import { DynamoDbDigestStore } from '#shared/adapters/dynamodb/digest-upgrades.ts';
import { DigestUpgrader } from '#shared/authorization/digest-upgrades.ts';
import { KmsSecrets } from '#shared/adapters/kms-secrets.ts';
import {
  authorize,
  SECRET_TAG_CONTEXT,
  VALID_UNTIL_CONTEXT,
  type AuthorizationDecision,
} from '#shared/authorization/decision.ts';
import { allowPolicy, denyAllPolicy } from '#shared/authorization/policies.ts';
import { ENV, requiredEnv } from '#shared/adapters/environment.ts';
import type { AuthorizerDeps } from '#shared/ports/deps.ts';
import { createPepperProvider } from '#shared/authorization/peppers.ts';
import { planContext } from '#shared/authorization/plan-context.ts';
import { routePolicyFromEnv } from '#shared/authorization/route-policy.ts';
import { type PermissionPolicy, parsePermissionPolicy, restrictedAllow } from '#shared/authorization/permission-policy.ts';
import { PERMISSIONS_CONTEXT } from '#shared/authorization/context-entries.ts';
import type { Principal } from '#shared/domain/model.ts';
import { documentClient } from './commons/clients/dynamodb.ts';
import { kmsClient } from './commons/clients/kms.ts';
import { createLogger } from './commons/logger.ts';

export type AuthorizerHandler = (event: AuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

/** A store or KMS failure: API Gateway answers 500 and caches nothing, and nobody is let in. */
export class AuthorizerFaultError extends Error {
  constructor(options?: ErrorOptions) {
    super('authorization could not be decided', options);
    this.name = 'AuthorizerFaultError';
  }
}

/**
 * The Lambda REQUEST authorizer of both front doors: API Gateway REST (payload 1.0) and HTTP API
 * (payload 2.0 with IAM-policy responses, the same `{principalId, policyDocument, context}`).
 * Either turns a thrown `Error('Unauthorized')` into 401 `{"message":"Unauthorized"}` and any
 * other exception into 500; REST answers an explicit Deny with 403 "...with an explicit deny" and
 * a route missing from an Allow with 403 "...not authorized...", HTTP API both with 403
 * `{"message":"Forbidden"}`.
 */
export function createAuthorizerHandler(deps: AuthorizerDeps): AuthorizerHandler {
  return async (event) => {
    // Only the connection's address counts: X-Forwarded-For and friends are set by the caller.
    const { payload, accountKey, userKey, sourceIp, apiBase, apiSwitchRoute } = readAuthorizerEvent(event);
    let decision: AuthorizationDecision;
    try {
      decision = await authorize(deps, { accountKey, userKey, sourceIp, apiSwitchRoute });
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
        const allow = allowOf(deps, decision.outcome, principal, apiBase);
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
          policyDocument: allow.policyDocument,
          context: {
            accountId: principal.accountId,
            userId: principal.userId,
            role: principal.role,
            keyId: principal.keyId,
            // A restricted key's effective permissions, for backends that check finer (functions/principal.ts).
            ...(allow.permissions === undefined ? {} : { [PERMISSIONS_CONTEXT]: allow.permissions }),
            // Random labels of the two secrets, never the secrets or their digests: this context
            // reaches team backends and logs. Each write checks them against the table.
            [SECRET_TAG_CONTEXT.accountKey]: decision.presentedSecrets.accountKey,
            [SECRET_TAG_CONTEXT.userKey]: decision.presentedSecrets.userKey,
            ...planContext(decision.plan),
            // Cached with the Allow: the handlers and the local gateway refuse it past this time.
            ...(decision.validUntil === undefined ? {} : { [VALID_UNTIL_CONTEXT]: new Date(decision.validUntil).toISOString() }),
          },
          // The usage plan (key source AUTHORIZER) throttles and counts by this; it is no credential.
          // HTTP API has no usage plans, and its response format (payload 2.0) has no such field.
          ...(decision.usageIdentifierKey === undefined || payload === '2.0' ? {} : { usageIdentifierKey: decision.usageIdentifierKey }),
        };
      }
    }
  };
}

/**
 * The Allow of a decision: the role's policy, or for a restricted key (DESIGN 14) exactly the
 * routes of its role whose permission it holds, with its list for the context. This authorizer's
 * cache serves only the switch routes when the API is off (shared/authorization/api-switch.ts),
 * so that Allow never answers another route.
 */
function allowOf(
  deps: AuthorizerDeps,
  outcome: 'allow' | 'allow-api-switch',
  principal: Principal,
  apiBase: string,
): { readonly policyDocument: PolicyDocument; readonly permissions?: string } {
  const permissions = principal.permissions ?? null;
  if (permissions === null) {
    return { policyDocument: outcome === 'allow' ? allowPolicy(principal.role, apiBase, deps.routePolicy) : apiSwitchPolicy(apiBase) };
  }
  if (outcome === 'allow-api-switch') return { policyDocument: apiSwitchPolicy(apiBase, permissions), permissions: permissions.join(',') };
  return restrictedAllow(principal.role, permissions, apiBase, deps.permissionPolicy);
}

/**
 * The permission policy written at synth into the bundle (infra/constructs/permission-policy-file.ts),
 * read once per container. Not named: management routes only. Named but missing or malformed:
 * thrown, so the container serves nobody rather than guess what a restricted key may call.
 */
function permissionPolicyFromEnv(): PermissionPolicy | undefined {
  const file = process.env[ENV.permissionPolicyFile];
  if (file === undefined || file === '') return undefined;
  return parsePermissionPolicy(readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), file), 'utf8'));
}

function depsFromEnv(): AuthorizerDeps {
  const store = new DynamoDbStore(documentClient, requiredEnv(ENV.tableName));
  const secrets = new KmsSecrets(kmsClient, requiredEnv(ENV.kmsKeyId));
  const logger = createLogger('latchkey-authorizer');
  const digestUpgrades = new DigestUpgrader(new DynamoDbDigestStore(documentClient, requiredEnv(ENV.tableName)), logger);
  const permissionPolicy = permissionPolicyFromEnv();
  return {
    credentials: store,
    peppers: createPepperProvider(store, secrets),
    logger,
    digestUpgrades,
    routePolicy: routePolicyFromEnv(process.env[ENV.routePolicy]),
    ...(permissionPolicy === undefined ? {} : { permissionPolicy }),
  };
}

let containerHandler: AuthorizerHandler | undefined;

/** Built on first use, once per container, so the pepper ring and SDK clients are reused. */
export const handler: AuthorizerHandler = (event) => {
  containerHandler ??= createAuthorizerHandler(depsFromEnv());
  return containerHandler(event);
};
