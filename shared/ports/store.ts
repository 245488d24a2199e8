import type { AccountStore } from './account-store.ts';
import type { AllowListStore } from './allow-list-store.ts';
import type { AuditStore } from './audit-store.ts';
import type { KeyLifecycleStore } from './key-lifecycle-store.ts';
import type { KeyStore } from './key-store.ts';
import type { UserStore } from './user-store.ts';

/**
 * Ports (this folder): what the domain and the handlers need from the outside world, one file
 * per group. Adapters (DynamoDB, KMS, API Gateway, and the local stand-ins) implement them and
 * take their SDK client in the constructor.
 *
 * Expected refusals surface as the domain's errors (NotFoundError, ConflictError,
 * LimitExceededError, RoleCannotHoldKeysError, ValidationError for a bad cursor); anything
 * else an adapter throws is a fault.
 *
 * The Store is every resource's store at once, as the management use cases take it.
 */
export type Store = AccountStore & UserStore & KeyStore & AllowListStore & AuditStore & KeyLifecycleStore;
