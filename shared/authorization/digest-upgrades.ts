import type { Logger } from '@aws-lambda-powertools/logger';
import type { PepperRing } from '../domain/hashing.ts';
import type { AuthorizationRecords } from '../ports/credentials.ts';

/**
 * Retiring an old pepper version means no stored digest uses it any more. Only the holder of
 * a key can make its digest under a new pepper, and the authorizer holds the key whenever it
 * is used: so a key that authorizes successfully with a digest under an older version has
 * that digest replaced by one under the newest, off the request's path and best effort.
 * The write is conditioned on the digest it replaces, so it never races a delete or a roll:
 * whichever came first wins, and a lost upgrade simply happens at a later use.
 */

export interface StoredDigest {
  readonly hash: Uint8Array;
  readonly pepperVersion: number;
}

export interface DigestStore {
  /** Replaces the user key's digest if it is still `from`; false if it changed or the key is gone. */
  upgradeKeyDigest(accountId: string, keyId: string, from: StoredDigest, to: StoredDigest): Promise<boolean>;
  /** Replaces the account key's digest if it is still `from`; false otherwise. */
  upgradeAccountKeyDigest(accountId: string, from: StoredDigest, to: StoredDigest): Promise<boolean>;
}

/** The keys a request presented, already checked for format. */
export interface PresentedKeys {
  readonly accountId: string;
  readonly keyId: string;
  readonly accountKey: string;
  readonly userKey: string;
}

export class DigestUpgrader {
  readonly #store: DigestStore;
  readonly #logger: Logger;
  /** One upgrade per digest at a time, however many requests arrive with it. */
  readonly #inFlight = new Map<string, Promise<void>>();

  constructor(store: DigestStore, logger: Logger) {
    this.#store = store;
    this.#logger = logger;
  }

  /**
   * Starts the upgrades this successful authorization allows and returns at once. Each digest
   * is checked against the presented key before it is replaced, whatever the caller decided.
   */
  offer(keys: PresentedKeys, records: AuthorizationRecords, ring: PepperRing): void {
    const newest = ring.current.version;
    const { account, key } = records;
    if (key !== undefined && key.pepperVersion < newest && ring.verify(keys.userKey, key.secretHash, key.pepperVersion)) {
      const from = { hash: key.secretHash, pepperVersion: key.pepperVersion };
      this.#start(`key ${keys.accountId}/${keys.keyId}`, () => this.#store.upgradeKeyDigest(keys.accountId, keys.keyId, from, toDigest(ring, keys.userKey)));
    }
    if (
      account !== undefined &&
      account.accountKeyPepperVersion < newest &&
      ring.verify(keys.accountKey, account.accountKeyHash, account.accountKeyPepperVersion)
    ) {
      const from = { hash: account.accountKeyHash, pepperVersion: account.accountKeyPepperVersion };
      this.#start(`account ${keys.accountId}`, () => this.#store.upgradeAccountKeyDigest(keys.accountId, from, toDigest(ring, keys.accountKey)));
    }
  }

  /** Resolves when every upgrade started so far has settled (tests; a process about to end). */
  async settled(): Promise<void> {
    await Promise.all([...this.#inFlight.values()]);
  }

  #start(id: string, upgrade: () => Promise<boolean>): void {
    if (this.#inFlight.has(id)) return;
    const running = upgrade()
      .then((upgraded) => {
        this.#logger.info('digest upgrade', { digest: id, upgraded });
      })
      .catch((error: unknown) => {
        this.#logger.warn('digest upgrade failed; the next use tries again', { digest: id, error });
      })
      .finally(() => {
        this.#inFlight.delete(id);
      });
    this.#inFlight.set(id, running);
  }
}

function toDigest(ring: PepperRing, key: string): StoredDigest {
  const { hash, pepperVersion } = ring.digest(key);
  return { hash, pepperVersion };
}
