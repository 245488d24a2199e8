import { type Actor, auditEvent } from '../domain/audit.ts';
import { formatAccountKey, maskAccountKey } from '../domain/key-format.ts';
import { newId } from '../domain/ids.ts';
import { validateKeyName } from '../domain/key-name.ts';
import { NotFoundError, ValidationError } from '../domain/errors.ts';
import type { AccountStore } from '../ports/account-store.ts';
import type { AuditStore } from '../ports/audit-store.ts';
import type { ApiDeps } from '../ports/deps.ts';
import type { Account, User } from '../domain/model.ts';
import { withAuthorizerCacheFlush } from './revocation.ts';
import { issueUserKey } from './api-keys.ts';

export interface CreateAccountInput {
  readonly name: string;
  readonly ownerName: string;
  readonly ownerEmail: string;
  /** The first owner key's name; default `owner-initial-key`. */
  readonly keyName?: string;
  readonly apiEnabled?: boolean;
}

export interface CreatedAccount {
  readonly account: Account;
  readonly owner: User;
  readonly keyId: string;
  /** Shown once, to whoever created the account; only digests and ciphertext are stored. */
  readonly accountKey: string;
  readonly userKey: string;
}

type AccountDeps = Pick<ApiDeps, 'store' | 'secrets' | 'peppers' | 'now' | 'usagePlans'>;

/**
 * Creates an account with its account key and a first owner holding one user key, in one
 * transaction (the console's sign-up; here the admin CLI and the local runtime's bootstrap).
 */
export async function createAccount(deps: AccountDeps, input: CreateAccountInput, actor: Actor): Promise<CreatedAccount> {
  const name = input.name.trim();
  if (name.length === 0 || name.length > 100) throw new ValidationError('name', 'length', 'account name must be 1 to 100 characters');
  const keyName = validateKeyName(input.keyName ?? 'owner-initial-key', 'keyName');
  const ring = await deps.peppers();
  const now = deps.now();
  const at = now.toISOString();
  const accountId = newId();
  const accountKey = formatAccountKey(accountId);
  const accountDigest = ring.digest(accountKey);
  const account = {
    id: accountId,
    name,
    apiEnabled: input.apiEnabled ?? true,
    accountKeyMasked: maskAccountKey(accountKey),
    createdAt: at,
    accountKeyHash: accountDigest.hash,
    accountKeyPepperVersion: accountDigest.pepperVersion,
    accountKeyCiphertext: await deps.secrets.encryptAccountKey(accountId, accountKey),
  };
  const owner: User = { id: newId(), accountId, name: input.ownerName, email: input.ownerEmail, role: 'owner', createdAt: at };
  const { record: ownerKey, secret: userKey } = issueUserKey(ring, owner, keyName, now, actor);
  // The usage-plan key comes first (outside the table), and goes again if the account is not stored.
  const usageKey = await deps.usagePlans.createKey(accountId, null);
  try {
    await deps.store.createAccount({
      account,
      owner,
      ownerKey,
      event: auditEvent(accountId, actor, 'account.create', `account/${accountId}`, deps.now()),
      usageKey,
    });
  } catch (error) {
    await deps.usagePlans.deleteKey(usageKey).catch(() => undefined);
    throw error;
  }
  return { account: publicAccount(account), owner, keyId: ownerKey.id, accountKey, userKey };
}

export async function setApiEnabled(
  deps: Pick<ApiDeps, 'authorizerCache' | 'logger' | 'now'> & { readonly store: Pick<AccountStore, 'setApiEnabled'> },
  accountId: string,
  enabled: boolean,
  actor: Actor,
): Promise<Account> {
  const event = auditEvent(accountId, actor, enabled ? 'account.api-enable' : 'account.api-disable', `account/${accountId}`, deps.now());
  // Turning the API off narrows access: no cached Allow may outlive it, not even when the
  // switch landed and only its answer was lost. Turning it on flushes too: a refusal the
  // gateway may have cached while it was off must not outlive the switch either.
  return withAuthorizerCacheFlush(deps, () => deps.store.setApiEnabled(accountId, enabled, event));
}

export function publicAccount(record: Account): Account {
  return {
    id: record.id,
    name: record.name,
    apiEnabled: record.apiEnabled,
    accountKeyMasked: record.accountKeyMasked,
    createdAt: record.createdAt,
    accountKeyLeakReportedAt: record.accountKeyLeakReportedAt ?? null,
  };
}

export async function getAccount(deps: { readonly store: Pick<AccountStore, 'getAccount'> }, accountId: string): Promise<Account> {
  const record = await deps.store.getAccount(accountId);
  if (record === undefined) throw new NotFoundError('account');
  return publicAccount(record);
}

/**
 * Decrypts the account key for an owner who asked to see it again. The reveal is recorded
 * before the key is returned: if the audit event cannot be written, the key is not shown.
 */
export async function revealAccountKey(
  deps: Pick<ApiDeps, 'secrets' | 'now'> & { readonly store: Pick<AccountStore, 'getAccount'> & Pick<AuditStore, 'recordEvent'> },
  accountId: string, actor: Actor): Promise<string> {
  const record = await deps.store.getAccount(accountId);
  if (record === undefined) throw new NotFoundError('account');
  const accountKey = await deps.secrets.decryptAccountKey(accountId, record.accountKeyCiphertext);
  await deps.store.recordEvent(auditEvent(accountId, actor, 'account-key.reveal', `account/${accountId}`, deps.now()));
  return accountKey;
}
