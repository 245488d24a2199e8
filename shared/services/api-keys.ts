import { type Actor, auditEvent } from '../domain/audit.ts';
import { assertRoleGrants, assertWithinHeld, permissionNames, validateKeyPermissions } from '../domain/key-permissions.ts';
import { MANAGEMENT_PERMISSION_CATALOG } from '../http/permission-catalog.ts';
import { NotFoundError, RoleCannotHoldKeysError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { formatUserKey } from '../domain/key-format.ts';
import { validateKeyExpiry } from '../domain/key-lifecycle.ts';
import { validateKeyName } from '../domain/key-name.ts';
import { canHoldKeys } from '../domain/roles.ts';
import type { ApiDeps } from '../ports/deps.ts';
import type { KeyStore } from '../ports/key-store.ts';
import type { UserStore } from '../ports/user-store.ts';
import type { PepperRing } from '../domain/hashing.ts';
import type { ApiKey, ApiKeyRecord, Page, User } from '../domain/model.ts';
import type { ListOptions } from '../ports/list-options.ts';
import { withAuthorizerCacheFlush } from './revocation.ts';

export interface NewApiKey {
  readonly name: string;
  readonly userId: string;
  /** RFC 3339; absent: the key never expires. */
  readonly expiresAt?: string | undefined;
  /** What the key is restricted to (DESIGN 14); absent: unrestricted. */
  readonly permissions?: readonly string[] | undefined;
}

export interface CreatedApiKey {
  readonly key: ApiKey;
  /** The user key itself: returned to the caller once and never stored (only its peppered digest is). */
  readonly secret: string;
}

export function listApiKeys(
  deps: { readonly store: Pick<KeyStore, 'listKeys'> },
  accountId: string,
  options: ListOptions & { readonly userId?: string | undefined },
): Promise<Page<ApiKey>> {
  return deps.store.listKeys(accountId, options);
}

export async function getApiKey(deps: { readonly store: Pick<KeyStore, 'getKey'> }, accountId: string, keyId: string): Promise<ApiKey> {
  const key = await deps.store.getKey(accountId, keyId);
  if (key === undefined) throw new NotFoundError('API key');
  return key;
}

export async function createApiKey(
  deps: Pick<ApiDeps, 'peppers' | 'now' | 'limits' | 'permissionCatalog'> & { readonly store: Pick<KeyStore, 'createKey'> & Pick<UserStore, 'getUser'> },
  accountId: string,
  input: NewApiKey,
  actor: Actor,
): Promise<CreatedApiKey> {
  const name = validateKeyName(input.name, 'name');
  const permissions = validateKeyPermissions(input.permissions ?? null, knownPermissions(deps));
  assertWithinHeld(actor.permissions, permissions);
  const now = deps.now();
  const expiresAt = input.expiresAt === undefined ? null : validateKeyExpiry(input.expiresAt, now);
  const user = await deps.store.getUser(accountId, input.userId);
  if (user === undefined) throw new NotFoundError('user');
  if (!canHoldKeys(user.role)) throw new RoleCannotHoldKeysError(user.role);
  // The store refuses the key if the role changed since (createKey), so this check holds.
  assertRoleGrants(user.role, permissions);
  const { record, secret } = issueUserKey(await deps.peppers(), user, name, now, actor, expiresAt, permissions);
  const event = { ...auditEvent(accountId, actor, 'api-key.create', `api-key/${record.id}`, now), permissions: { after: permissions } };
  await deps.store.createKey(record, event, deps.limits);
  return { key: publicApiKey(record), secret };
}

/**
 * Restricts a key to `permissions`, or lifts its restriction (null). In effect at once both
 * ways: a narrowing must stop what a cached Allow still lets through, and a widening must not
 * wait for a cached Deny to lapse (the stream's flusher counts any change of the list as
 * narrowing, and this flushes at once besides).
 */
export async function updateApiKeyPermissions(
  deps: Pick<ApiDeps, 'now' | 'authorizerCache' | 'logger' | 'permissionCatalog'> & { readonly store: Pick<KeyStore, 'setKeyPermissions'> },
  accountId: string,
  keyId: string,
  permissions: readonly string[] | null,
  actor: Actor,
): Promise<ApiKey> {
  const wanted = validateKeyPermissions(permissions, knownPermissions(deps));
  assertWithinHeld(actor.permissions, wanted);
  const now = deps.now();
  const key = await withAuthorizerCacheFlush(deps, () =>
    deps.store.setKeyPermissions(accountId, keyId, wanted, (current) => {
      // A key of a role that may hold none authorizes nobody; it is not one to restrict either.
      if (!canHoldKeys(current.role)) throw new RoleCannotHoldKeysError(current.role);
      assertRoleGrants(current.role, wanted);
      const before = current.key.permissions ?? null;
      return { ...auditEvent(accountId, actor, 'api-key.update', `api-key/${keyId}`, now), permissions: { before, after: wanted } };
    }),
  );
  return publicApiKey(key);
}

/** The names a key may be restricted to: this deployment's permissions. */
function knownPermissions(deps: Pick<ApiDeps, 'permissionCatalog'>): ReadonlySet<string> {
  return permissionNames(deps.permissionCatalog ?? MANAGEMENT_PERMISSION_CATALOG);
}

export async function deleteApiKey(
  deps: Pick<ApiDeps, 'now' | 'authorizerCache' | 'logger'> & { readonly store: Pick<KeyStore, 'deleteKey'> },
  accountId: string, keyId: string, actor: Actor): Promise<void> {
  const event = auditEvent(accountId, actor, 'api-key.delete', `api-key/${keyId}`, deps.now());
  // A deleted key must stop working now, not when API Gateway's cached Allow expires.
  await withAuthorizerCacheFlush(deps, () => deps.store.deleteKey(accountId, keyId, event));
}

/** A key as the API shows it: never its digest, pepper version or role copy. */
export function publicApiKey(key: ApiKey): ApiKey {
  return {
    id: key.id,
    accountId: key.accountId,
    name: key.name,
    userId: key.userId,
    createdAt: key.createdAt,
    lastUsedAt: key.lastUsedAt,
    cidrAllowList: key.cidrAllowList,
    expiresAt: key.expiresAt ?? null,
    createdBy: key.createdBy,
    permissions: key.permissions ?? null,
  };
}

/**
 * A new user key for `user`: the secret (to show once) and the record to store, which holds
 * only its peppered digest and a copy of the holder's role.
 */
export function issueUserKey(
  peppers: PepperRing,
  user: Pick<User, 'id' | 'accountId' | 'role'>,
  name: string,
  at: Date,
  issuer: Pick<Actor, 'userId' | 'keyId'>,
  expiresAt: string | null = null,
  permissions: readonly string[] | null = null,
): { readonly record: ApiKeyRecord; readonly secret: string } {
  const keyId = newId();
  const secret = formatUserKey(user.accountId, keyId);
  const digest = peppers.digest(secret);
  const record: ApiKeyRecord = {
    id: keyId,
    accountId: user.accountId,
    name,
    userId: user.id,
    // The store refuses the key if the user's role changed since it was read.
    role: user.role,
    createdAt: at.toISOString(),
    lastUsedAt: null,
    cidrAllowList: [],
    createdBy: { userId: issuer.userId, keyId: issuer.keyId },
    secretHash: digest.hash,
    pepperVersion: digest.pepperVersion,
    expiresAt,
    permissions,
  };
  return { record, secret };
}
