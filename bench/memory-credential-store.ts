import {
  accountItem,
  authorizationAccountFromItem,
  authorizationKeyFromItem,
  keyItem,
  type Item,
} from '#shared/adapters/dynamodb/items.ts';
import { authorizationKeyPermissions } from '#shared/adapters/dynamodb/credential-store.ts';
import type { AccountRecord, ApiKeyRecord } from '#shared/domain/model.ts';
import type { AuthorizationRecords, CredentialStore } from '#shared/ports/credentials.ts';
import type { PepperStore, StoredPepper } from '#shared/ports/pepper-store.ts';

/**
 * A CredentialStore held in memory, to time the authorizer's own work without a database.
 * It keeps the items the DynamoDB adapter would write and maps them back with the adapter's
 * own item mapping on every call, so the authorizer receives the same records a real store
 * would return, freshly built each time; only the round trip is missing.
 */
export class MemoryCredentialStore implements CredentialStore {
  readonly #accounts = new Map<string, Item>();
  readonly #keys = new Map<string, Item>();

  putAccount(account: AccountRecord): void {
    this.#accounts.set(account.id, accountItem(account, 1));
  }

  putKey(key: ApiKeyRecord): void {
    this.#keys.set(`${key.accountId}/${key.id}`, keyItem(key));
  }

  loadForAuthorization(accountId: string, keyId: string): Promise<AuthorizationRecords> {
    const account = this.#accounts.get(accountId);
    const key = this.#keys.get(`${accountId}/${keyId}`);
    return Promise.resolve({
      account: account === undefined ? undefined : authorizationAccountFromItem(account),
      key: key === undefined ? undefined : { ...authorizationKeyFromItem(key), ...authorizationKeyPermissions(key) },
    });
  }
}

/** Peppers held in memory, for a pepper provider that needs no database. */
export class MemoryPepperStore implements PepperStore {
  readonly #peppers = new Map<number, StoredPepper>();

  listPeppers(): Promise<readonly StoredPepper[]> {
    return Promise.resolve([...this.#peppers.values()]);
  }

  addPepper(pepper: StoredPepper): Promise<boolean> {
    if (this.#peppers.has(pepper.version)) return Promise.resolve(false);
    this.#peppers.set(pepper.version, pepper);
    return Promise.resolve(true);
  }
}
