import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createAuthorizerHandler } from '#functions/authorizer.ts';
import { createApiHandler } from '#functions/operations/all-groups.ts';
import type { ApiHandler } from '#functions/commons/api-handler.ts';
import { createLogger } from '#functions/commons/logger.ts';
import { DynamoDbStore } from '#shared/adapters/dynamodb-store.ts';
import { LocalUsagePlans } from '#local/storage/local-usage-plans.ts';
import { type ApiFlavor, auditRetentionDaysFromEnv, defaultPlanFromEnv, limitsFromEnv } from '#shared/adapters/environment.ts';
import type { Plan } from '#shared/domain/plan.ts';
import type { ApiDeps, AuthorizerDeps } from '#shared/ports/deps.ts';
import { DynamoDbDigestStore } from '#shared/adapters/dynamodb/digest-upgrades.ts';
import { DigestUpgrader } from '#shared/authorization/digest-upgrades.ts';
import { createPepperProvider } from '#shared/authorization/peppers.ts';
import type { Limits } from '#shared/ports/limits.ts';
import type { Secrets } from '#shared/ports/secrets.ts';
import { buildPermissionCatalog } from '#shared/http/permission-catalog.ts';
import { FUNCTION_GROUPS, PUBLIC_ROUTE_THROTTLE, type FunctionGroup } from '#shared/http/routes.ts';
import { FLUSHED_BY_STREAM } from '#shared/services/revocation.ts';
import { AccountLimiter, MethodThrottle, type ThrottleLimits } from '../gateway/account-limiter.ts';
import { LOCAL_SERVICE } from './request-log.ts';
import { buildRoutePolicy } from '#shared/authorization/route-policy.ts';
import { buildPermissionPolicy } from '#shared/authorization/permission-policy.ts';
import { LocalAuthorizerCache } from '../gateway/authorizer-cache.ts';
import { createGateway, type DownstreamInvoker, type Gateway } from '../gateway/gateway.ts';

export const DEFAULT_AUTHORIZER_TTL_SECONDS = 300;

export interface LocalAppOptions {
  readonly documentClient: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly secrets: Secrets;
  /** @default 300, the deployed authorizer's TTL; 0 turns the cache off */
  readonly authorizerTtlSeconds?: number;
  /** @default DEFAULT_LIMITS */
  readonly limits?: Limits;
  /** @default a structured logger named `latchkey-local` */
  readonly logger?: Logger;
  /** @default LATCHKEY_AUDIT_RETENTION_DAYS, else 365 */
  readonly auditRetentionDays?: number;
  /** @default 'local' */
  readonly stage?: string;
  /** @default 10 MiB, like API Gateway */
  readonly maxBodyBytes?: number;
  /** @default the clock */
  readonly now?: () => Date;
  /**
   * Whether a mutating handler also flushes the local cache at once, before the table's stream
   * does (startLocalRevocation). Off, revocation rests on the stream alone, as on AWS.
   * @default true
   */
  readonly immediateFlush?: boolean;
  /** The plan of accounts without their own. @default from LATCHKEY_RATE_LIMIT and friends, else DEFAULT_PLAN */
  readonly defaultPlan?: Plan;
  /** Whether each account's plan is applied (429 over it); off only to measure what it costs. @default true */
  readonly limitRequests?: boolean;
  /** The team's own routes (downstream.ts), authorized like the management routes. @default none */
  readonly downstream?: DownstreamInvoker;
  /**
   * The method throttle of each route that needs no keys (leak reports), for all callers
   * together, as the deployed stage applies it. @default PUBLIC_ROUTE_THROTTLE, the deployed default
   */
  readonly publicRouteThrottle?: ThrottleLimits;
  /**
   * The front door emulated: API Gateway REST, or its HTTP API (payload 2.0 to the authorizer
   * and the Lambda integrations, its own answers, a route throttle on the routes without keys,
   * no usage plans, so no per-account limits). @default 'rest'
   */
  readonly flavor?: ApiFlavor;
}

export interface LocalApp {
  readonly gateway: Gateway;
  readonly store: DynamoDbStore;
  readonly apiDeps: ApiDeps;
  readonly authorizerDeps: AuthorizerDeps;
  readonly authorizerCache: LocalAuthorizerCache;
  readonly limiter: AccountLimiter;
  /** The leak-report route's own throttle, for every caller together. */
  readonly publicRouteThrottle: MethodThrottle;
  /**
   * What a change made outside this process (the admin CLI) needs: drop every cached
   * authorizer decision and read the peppers again, so a rotated pepper is known at once.
   */
  readonly refresh: () => Promise<void>;
}

/**
 * The deployed stack's parts wired in one process: one store, one pepper ring shared by the
 * authorizer and the handlers (as each Lambda container would hold its own), the same
 * authorizer and handler factories the Lambda entry points use, and the gateway emulator in
 * front of them. Mutating handlers flush the emulator's authorizer cache, as they flush the
 * stage's cache in AWS.
 */
export function createLocalApp(options: LocalAppOptions): LocalApp {
  const auditRetentionDays = options.auditRetentionDays ?? auditRetentionDaysFromEnv();
  const store = new DynamoDbStore(options.documentClient, options.tableName, { auditRetentionDays });
  const logger = options.logger ?? createLogger(LOCAL_SERVICE);
  let pepperProvider = createPepperProvider(store, options.secrets);
  // Passes the version on, so that a digest made after a rotation reloads the ring here too.
  const peppers: ApiDeps['peppers'] = (minVersion) => pepperProvider(minVersion);
  const authorizerCache = new LocalAuthorizerCache(options.authorizerTtlSeconds ?? DEFAULT_AUTHORIZER_TTL_SECONDS);
  const now = options.now ?? (() => new Date());
  const limiter = new AccountLimiter({
    defaultPlan: options.defaultPlan ?? defaultPlanFromEnv(),
    ...(options.now === undefined ? {} : { now: () => now().getTime() }),
  });
  // The same policies the deployed authorizer gets through LATCHKEY_ROUTE_POLICY and its
  // permission policy file (restricted keys, DESIGN 14).
  const routePolicy = options.downstream === undefined ? undefined : buildRoutePolicy(options.downstream.routes);
  const permissionPolicy = options.downstream === undefined ? undefined : buildPermissionPolicy(options.downstream.routes, routePolicy);
  const digestUpgrades = new DigestUpgrader(new DynamoDbDigestStore(options.documentClient, options.tableName), logger);
  const authorizerDeps: AuthorizerDeps = {
    credentials: store,
    peppers,
    logger,
    ...(options.now === undefined ? {} : { now: options.now }),
    digestUpgrades,
    ...(routePolicy === undefined ? {} : { routePolicy }),
    ...(permissionPolicy === undefined ? {} : { permissionPolicy }),
  };
  const apiDeps: ApiDeps = {
    store,
    secrets: options.secrets,
    peppers,
    authorizerCache: options.immediateFlush === false ? FLUSHED_BY_STREAM : authorizerCache,
    limits: options.limits ?? limitsFromEnv(),
    logger,
    now,
    auditRetentionDays,
    // HTTP API has no usage plans: behind its emulation GET /v1/account/usage says the plan is not enforced.
    usagePlans: new LocalUsagePlans(limiter, { enforced: options.flavor !== 'http' }),
    defaultPlan: limiter.defaultPlan,
    // What the deployed functions read from the file the stack bundles with them.
    permissionCatalog: buildPermissionCatalog(options.downstream?.routes ?? []),
  };
  const handlers = Object.fromEntries(FUNCTION_GROUPS.map((group) => [group, createApiHandler(group, apiDeps)])) as Record<
    FunctionGroup,
    ApiHandler
  >;
  const publicRouteThrottle = new MethodThrottle(options.publicRouteThrottle ?? PUBLIC_ROUTE_THROTTLE, {
    ...(options.now === undefined ? {} : { now: () => now().getTime() }),
  });
  const common = {
    authorizerCache,
    publicRouteThrottle,
    ...(options.stage === undefined ? {} : { stage: options.stage }),
    ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
    ...(options.downstream === undefined ? {} : { downstream: options.downstream }),
  };
  const authorizer = createAuthorizerHandler(authorizerDeps);
  const gateway =
    options.flavor === 'http'
      ? createGateway({ ...common, flavor: 'http', authorizer, handlers })
      : createGateway({ ...common, authorizer, handlers, limiter: options.limitRequests === false ? undefined : limiter });
  const refresh = async (): Promise<void> => {
    pepperProvider = createPepperProvider(store, options.secrets);
    await authorizerCache.flush();
  };
  return { gateway, store, apiDeps, authorizerDeps, authorizerCache, limiter, publicRouteThrottle, refresh };
}
