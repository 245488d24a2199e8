import type { ApiKey, ApiKeyRecord, AuditEvent, Page } from '../domain/model.ts';
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
  /** Best effort, for `lastUsedAt`. */
  recordKeyUse(accountId: string, keyId: string, at: string): Promise<void>;
}
