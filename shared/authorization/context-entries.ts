import { isPermissionName } from '../domain/permissions.ts';
import type { PresentedSecrets } from '../domain/secret-tags.ts';

/**
 * The names of the authorizer context entries the handlers read back, apart from the decision
 * (decision.ts re-exports them): a handler takes these names alone, without the decision's
 * address parsing (domain/cidr.ts and ipaddr.js) in its bundle.
 */

/** The authorizer context entry that carries an Allow's deadline (ISO 8601), when it has one. */
export const VALID_UNTIL_CONTEXT = 'validUntil';
/** The authorizer context entries that carry the tags of the secrets an Allow was made for (domain/secret-tags.ts). */
export const SECRET_TAG_CONTEXT = { accountKey: 'accountKeyTag', userKey: 'userKeyTag' } as const satisfies Record<keyof PresentedSecrets, string>;
/**
 * The authorizer context entry that carries a restricted key's effective permissions (DESIGN 14),
 * comma-joined (an empty string: none); absent for an unrestricted key.
 */
export const PERMISSIONS_CONTEXT = 'permissions';

/**
 * A restricted key's permissions as the context carries them: null when the entry is absent
 * (unrestricted), the list otherwise (an empty string: none); undefined for anything else, which
 * no authorizer of this deployment writes, so the reader must treat it as no principal.
 */
export function permissionsFromContext(value: unknown): readonly string[] | null | undefined {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') return undefined;
  if (value === '') return [];
  const permissions = value.split(',');
  return permissions.every(isPermissionName) ? permissions : undefined;
}
