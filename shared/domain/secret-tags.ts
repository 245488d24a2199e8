import { isId, newId } from './ids.ts';

/**
 * A secret tag names one issued secret (a user key's secret, an account key) without saying
 * anything about it: a random id, stored beside the secret's digest and made afresh whenever a
 * new secret is stored (creation, roll). The authorizer passes on the tags of the secrets that
 * matched, and every write checks, in its own transaction, that they still name live secrets
 * of their items; so an Allow cached for a secret rolled away writes nothing.
 *
 * Why not a digest, or anything computed from the secret: the authorizer context reaches team
 * backends and logs, and a tag must neither be worth stealing nor let anyone test a guessed
 * key; and a digest changes when a pepper rotation upgrades it, which must not end a still
 * valid cached Allow. A tag changes only when its secret does.
 */

/** The tag of a secret stored before secrets were tagged: the slot that carries no tag. */
export const UNTAGGED_SECRET = 'untagged';

export function newSecretTag(): string {
  return newId();
}

export function isSecretTag(value: string): boolean {
  return value === UNTAGGED_SECRET || isId(value);
}

/** The tags of the two secrets a request was authorized with. */
export interface PresentedSecrets {
  readonly accountKey: string;
  readonly userKey: string;
}
