import type { ApiKey, ApiKeyRecord, AuditEvent, Page } from '../domain/model.ts';
import type { Role } from '../domain/roles.ts';
import type { Limits } from './limits.ts';
import type { ListOptions } from './list-options.ts';

/** Users' API keys. */
export interface KeyStore {
  /**
   * Creates a key if its name is free in the account, its user still exists with the role the
   * record carries (one that may hold keys), and the user is under the key limit.
   */
  createKey(key: ApiKeyRecord, event: AuditEvent, limits: Limits): Promise<void>;
  getKey(accountId: string, keyId: string): Promise<ApiKey | undefined>;
  listKeys(accountId: string, options: ListOptions & { readonly userId?: string | undefined }): Promise<Page<ApiKey>>;
  deleteKey(accountId: string, keyId: string, event: AuditEvent): Promise<void>;
  /**
   * Sets a key's permissions (null: unrestricted), with the audit event `audit` makes from the
   * key as read and its holder's role (and which may refuse by throwing). The write is
   * conditioned on both being unchanged since, so the check and the event hold for what is
   * replaced; a lost race reads again.
   */
  setKeyPermissions(
    accountId: string,
    keyId: string,
    permissions: readonly string[] | null,
    audit: (current: { readonly key: ApiKey; readonly role: Role }) => AuditEvent,
  ): Promise<ApiKey>;
  /** Best effort, for `lastUsedAt`. */
  recordKeyUse(accountId: string, keyId: string, at: string): Promise<void>;
}
