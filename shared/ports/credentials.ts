import type { Plan } from '../domain/plan.ts';
import type { Role } from '../domain/roles.ts';

/** Everything the authorizer decides on, from one round trip. */
export interface AuthorizationRecords {
  readonly account:
    | {
        readonly apiEnabled: boolean;
        readonly accountKeyHash: Uint8Array;
        readonly accountKeyPepperVersion: number;
        /** The account key's secret tag (domain/secret-tags.ts); absent on an account stored before tags. */
        readonly accountKeyTag?: string | undefined;
        /** The account key before its last roll, with its deadline in epoch milliseconds. */
        readonly previousAccountKey?: AuthorizationSecret | undefined;
        /** The account's own plan; absent: the deployment's default plan. */
        readonly plan?: Plan | undefined;
        /** The value of the account's usage-plan key, which the authorizer hands API Gateway. */
        readonly usageIdentifierKey?: string | undefined;
      }
    | undefined;
  readonly key:
    | {
        readonly userId: string;
        readonly role: Role;
        readonly secretHash: Uint8Array;
        readonly pepperVersion: number;
        /** The secret's tag (domain/secret-tags.ts); absent on a key stored before tags. */
        readonly secretTag?: string | undefined;
        readonly cidrs: readonly string[];
        /** Epoch milliseconds after which the key no longer works; undefined = never. */
        readonly expiresAt?: number | undefined;
        /** The secret before the key's last roll, with its deadline. */
        readonly previousSecret?: AuthorizationSecret | undefined;
        /** The permissions the key is restricted to (DESIGN 14); absent: unrestricted, all its holder's role grants. */
        readonly permissions?: readonly string[] | undefined;
      }
    | undefined;
}

/** A digest that stops matching at `expiresAt` (epoch milliseconds). */
export interface AuthorizationSecret {
  readonly hash: Uint8Array;
  readonly pepperVersion: number;
  readonly expiresAt: number;
  /** Absent on a secret stored before tags. */
  readonly tag?: string | undefined;
}

/** The authorizer's one read. */
export interface CredentialStore {
  /** Exactly one database round trip (one BatchGetItem), strongly consistent so revocation is immediate. */
  loadForAuthorization(accountId: string, keyId: string): Promise<AuthorizationRecords>;
}
