import type { Logger } from '@aws-lambda-powertools/logger';
import type { DigestUpgrader } from '../authorization/digest-upgrades.ts';
import type { PepperProvider } from '../authorization/peppers.ts';
import type { PermissionCatalog } from '../domain/key-permissions.ts';
import type { Plan } from '../domain/plan.ts';
import type { AuthorizerCache } from './authorizer-cache.ts';
import type { CredentialStore } from './credentials.ts';
import type { Limits } from './limits.ts';
import type { Secrets } from './secrets.ts';
import type { Store } from './store.ts';
import type { UsagePlans } from './usage-plans.ts';
import type { RoutePolicy } from '../authorization/route-policy.ts';
import type { PermissionPolicy } from '../authorization/permission-policy.ts';

/** What the authorizer needs; built once per container (functions/authorizer.ts) or by the local runtime. */
export interface AuthorizerDeps {
  readonly credentials: CredentialStore;
  readonly peppers: PepperProvider;
  readonly logger: Logger;
  /** @default the clock; injected so that expiry and grace periods can be tested exactly */
  readonly now?: () => Date;
  /** Which routes each role may call. @default management routes only */
  readonly routePolicy?: RoutePolicy;
  /**
   * What a restricted key's policy is made of, over the same routes (DESIGN 14).
   * @default management routes only (shared/authorization/permission-policy.ts)
   */
  readonly permissionPolicy?: PermissionPolicy;
  /** Moves digests under an old pepper to the newest when their key is used; absent: never. */
  readonly digestUpgrades?: DigestUpgrader;
}

/** What every management handler and use case needs: one object of ports, built once. */
export interface ApiDeps {
  readonly store: Store;
  readonly secrets: Secrets;
  readonly peppers: PepperProvider;
  readonly authorizerCache: AuthorizerCache;
  readonly limits: Limits;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Audit events expire this many days after they happen; 0 = never. */
  readonly auditRetentionDays: number;
  readonly usagePlans: UsagePlans;
  /** The plan of accounts that have none of their own. */
  readonly defaultPlan: Plan;
  /**
   * Every permission of this deployment, the team's routes' included (DESIGN 14).
   * @default the management routes' alone (shared/http/permission-catalog.ts)
   */
  readonly permissionCatalog?: PermissionCatalog;
}
