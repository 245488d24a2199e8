import type { AuthorizationRecords, CredentialStore } from '#shared/ports/credentials.ts';

/**
 * The authorizer's credential store in memory, for tests of the handler's decisions without a
 * table: records by `accountId/keyId` (none found reads as DynamoDB's empty answer), every read
 * kept in order, and a failure to throw in place of the round trip.
 */
export class FakeCredentialStore implements CredentialStore {
  /** Keyed `${accountId}/${keyId}`. */
  readonly records = new Map<string, AuthorizationRecords>();
  readonly reads: { accountId: string; keyId: string }[] = [];
  /** When set, every read fails with it (a throttled or unreachable table). */
  failure: Error | undefined;

  /** Stores the records the authorizer reads for one key. */
  put(accountId: string, keyId: string, records: AuthorizationRecords): this {
    this.records.set(`${accountId}/${keyId}`, records);
    return this;
  }

  loadForAuthorization(accountId: string, keyId: string): Promise<AuthorizationRecords> {
    this.reads.push({ accountId, keyId });
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return Promise.resolve(this.records.get(`${accountId}/${keyId}`) ?? { account: undefined, key: undefined });
  }
}
