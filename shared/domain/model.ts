import type { CidrRule } from './cidr.ts';
import type { KeyRole, Role } from './roles.ts';
import type { PresentedSecrets } from './secret-tags.ts';

/** What the API shows of an account. */
export interface Account {
  readonly id: string;
  readonly name: string;
  /** The "Enable API" switch: when off, every request with this account's key is refused. */
  readonly apiEnabled: boolean;
  /** `lka_********wxyz`: enough to tell keys apart, never enough to use one. */
  readonly accountKeyMasked: string;
  readonly createdAt: string;
  /** When someone first reported the account key as leaked (`POST /v1/leaked-keys`); null if never since its last roll. */
  readonly accountKeyLeakReportedAt?: string | null;
}

/** An account as stored: the account key as a peppered digest (lookup) and KMS ciphertext (reveal). */
export interface AccountRecord extends Account {
  readonly accountKeyHash: Uint8Array;
  readonly accountKeyPepperVersion: number;
  readonly accountKeyCiphertext: Uint8Array;
  /** The account key before the last roll, while its grace period lasts. */
  readonly previousAccountKey?: PreviousSecret | undefined;
}

/** A secret replaced by a roll that keeps working until `expiresAt` (ISO 8601), and never after. */
export interface PreviousSecret {
  readonly hash: Uint8Array;
  readonly pepperVersion: number;
  readonly expiresAt: string;
}

export interface User {
  readonly id: string;
  readonly accountId: string;
  readonly name: string;
  readonly email: string;
  readonly role: Role;
  readonly createdAt: string;
}

/** What the API shows of a user key. The secret itself is never stored or shown again. */
export interface ApiKey {
  readonly id: string;
  readonly accountId: string;
  readonly name: string;
  readonly userId: string;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly cidrAllowList: readonly CidrRule[];
  /** When the key stops working (ISO 8601); null = never. */
  readonly expiresAt?: string | null;
  /** Who issued it: the user and key that made the request, or nulls for the system (admin CLI, sign-up). */
  readonly createdBy: { readonly userId: string | null; readonly keyId: string | null };
  /**
   * What the key is restricted to (DESIGN 14), names of permissions its holder's role grants;
   * null or absent: unrestricted, all of the role's.
   */
  readonly permissions?: readonly string[] | null;
}

/** A user key as stored: its digest, and its holder's role copied on so that one read authorizes. */
export interface ApiKeyRecord extends ApiKey {
  readonly role: Role;
  readonly secretHash: Uint8Array;
  readonly pepperVersion: number;
  /** The secret before the last roll, while its grace period lasts. */
  readonly previousSecret?: PreviousSecret | undefined;
}

export interface AuditEvent {
  readonly id: string;
  readonly accountId: string;
  readonly time: string;
  /** e.g. `api-key.create`, `cidr-rule.delete`, `account-key.reveal`. */
  readonly action: string;
  readonly actor: { readonly userId: string | null; readonly keyId: string | null };
  /** What the action was done to, e.g. `api-key/<id>`. */
  readonly target: string;
  readonly sourceIp: string | null;
  /**
   * A key's permissions as the event set them (`api-key.create`, `api-key.update`): `after` the
   * list it got, `before` the one it had (updates only); null = unrestricted.
   */
  readonly permissions?: AuditedPermissions | undefined;
  /**
   * The secrets the actor's request was authorized with. The transaction that records the
   * event checks they are still live (adapters/dynamodb/principal-check.ts); never stored or shown.
   */
  readonly presentedSecrets?: PresentedSecrets | undefined;
}

export interface AuditedPermissions {
  readonly before?: readonly string[] | null | undefined;
  readonly after: readonly string[] | null;
}

/** Who is calling, as the authorizer established it and passed on in its context. */
export interface Principal {
  readonly accountId: string;
  readonly userId: string;
  readonly role: KeyRole;
  readonly keyId: string;
  /**
   * What the key may use (DESIGN 14): its list less what the role no longer grants; null or
   * absent: unrestricted, all its role grants.
   */
  readonly permissions?: readonly string[] | null;
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Opaque; absent on the last page. */
  readonly nextCursor: string | null;
}
