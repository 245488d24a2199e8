import type { CidrRule } from '#shared/domain/cidr.ts';
import type { Account, ApiKey, AuditEvent, AuditedPermissions, User } from '#shared/domain/model.ts';
import type { ResponseOf } from '#shared/http/schemas.ts';

// Views name every field they show, so nothing stored (digests, ciphertexts, role copies,
// account ids) reaches a response by accident.

export function accountView(account: Account): ResponseOf<'getAccount'> {
  return {
    id: account.id,
    name: account.name,
    apiEnabled: account.apiEnabled,
    accountKey: { masked: account.accountKeyMasked },
    createdAt: account.createdAt,
    accountKeyLeakReportedAt: account.accountKeyLeakReportedAt ?? null,
  };
}

export function userView(user: User): ResponseOf<'createUser'> {
  return { id: user.id, name: user.name, email: user.email, role: user.role, createdAt: user.createdAt };
}

export function cidrRuleView(rule: CidrRule): ResponseOf<'addCidrRule'> {
  return { id: rule.id, cidr: rule.cidr, createdAt: rule.createdAt };
}

export function apiKeyView(key: ApiKey): ResponseOf<'getApiKey'> {
  return {
    id: key.id,
    name: key.name,
    userId: key.userId,
    createdAt: key.createdAt,
    lastUsedAt: key.lastUsedAt,
    cidrAllowList: key.cidrAllowList.map(cidrRuleView),
    expiresAt: key.expiresAt ?? null,
    createdBy: { userId: key.createdBy.userId, keyId: key.createdBy.keyId },
    permissions: key.permissions === undefined || key.permissions === null ? null : [...key.permissions],
  };
}

export function auditEventView(event: AuditEvent): ResponseOf<'listEvents'>['items'][number] {
  return {
    id: event.id,
    time: event.time,
    action: event.action,
    actor: { userId: event.actor.userId, keyId: event.actor.keyId },
    target: event.target,
    sourceIp: event.sourceIp,
    ...(event.permissions === undefined ? {} : { permissions: auditedPermissionsView(event.permissions) }),
  };
}

function auditedPermissionsView(permissions: AuditedPermissions): { before?: string[] | null; after: string[] | null } {
  const list = (value: readonly string[] | null): string[] | null => (value === null ? null : [...value]);
  return permissions.before === undefined ? { after: list(permissions.after) } : { before: list(permissions.before), after: list(permissions.after) };
}
