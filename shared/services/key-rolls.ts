import { assertWithinHeld } from '../domain/key-permissions.ts';
import { type Actor, auditEvent } from '../domain/audit.ts';
import { formatAccountKey, formatUserKey, maskAccountKey } from '../domain/key-format.ts';
import type { ApiDeps } from '../ports/deps.ts';
import type { KeyLifecycleStore } from '../ports/key-lifecycle-store.ts';
import type { ApiKey } from '../domain/model.ts';
import { publicApiKey } from './api-keys.ts';
import { withAuthorizerCacheFlush } from './revocation.ts';

/**
 * Rolling a secret: a new one is issued and returned once; the one it replaces keeps working
 * for the grace period asked for, and never after. Every roll flushes the authorizer cache:
 * a grace of 0 ends the old secret at once, a roll during a grace ends the older one at once,
 * and an Allow cached before the roll carries no deadline for the old secret.
 */

export interface RolledApiKey {
  readonly key: ApiKey;
  /** The new user key: returned once, only its digest is stored. */
  readonly secret: string;
  readonly previousSecretExpiresAt: string | null;
}

export async function rollApiKey(
  deps: Pick<ApiDeps, 'peppers' | 'now' | 'authorizerCache' | 'logger'> & { readonly store: Pick<KeyLifecycleStore, 'rollKey'> },
  accountId: string,
  keyId: string,
  gracePeriodSeconds: number,
  actor: Actor,
): Promise<RolledApiKey> {
  const now = deps.now();
  // Same key id: the key string embeds it, and the item keeps its name and allow list.
  const secret = formatUserKey(accountId, keyId);
  const digest = (await deps.peppers()).digest(secret);
  const event = auditEvent(accountId, actor, 'api-key.roll', `api-key/${keyId}`, now);
  const rolled = await withAuthorizerCacheFlush(deps, () =>
    deps.store.rollKey(accountId, keyId, { hash: digest.hash, pepperVersion: digest.pepperVersion }, gracePeriodSeconds, now, event, (key) => {
      // The new secret comes back to the caller: a restricted key gets none that may do more.
      assertWithinHeld(actor.permissions, key.permissions ?? null);
    }),
  );
  return { key: publicApiKey(rolled.key), secret, previousSecretExpiresAt: rolled.previousSecretExpiresAt };
}

export interface RolledAccountKey {
  /** Returned once here; stored as a digest and as KMS ciphertext (for reveal). */
  readonly accountKey: string;
  readonly previousKeyExpiresAt: string | null;
}

export async function rollAccountKey(
  deps: Pick<ApiDeps, 'peppers' | 'secrets' | 'now' | 'authorizerCache' | 'logger'> & { readonly store: Pick<KeyLifecycleStore, 'rollAccountKey'> },
  accountId: string,
  gracePeriodSeconds: number,
  actor: Actor,
): Promise<RolledAccountKey> {
  const now = deps.now();
  const accountKey = formatAccountKey(accountId);
  const digest = (await deps.peppers()).digest(accountKey);
  const ciphertext = await deps.secrets.encryptAccountKey(accountId, accountKey);
  const event = auditEvent(accountId, actor, 'account-key.roll', `account/${accountId}`, now);
  const rolled = await withAuthorizerCacheFlush(deps, () =>
    deps.store.rollAccountKey(
      accountId,
      { hash: digest.hash, pepperVersion: digest.pepperVersion, ciphertext, masked: maskAccountKey(accountKey) },
      gracePeriodSeconds,
      now,
      event,
    ),
  );
  return { accountKey, previousKeyExpiresAt: rolled.previousKeyExpiresAt };
}
