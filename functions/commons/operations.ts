import type { BodyOf, ParamsOf, QueryOf, ResponseOf } from '#shared/http/schemas.ts';
import type { Actor } from '#shared/domain/audit.ts';
import type { CidrRule } from '#shared/domain/cidr.ts';
import type { ApiDeps } from '#shared/ports/deps.ts';
import type { Account, ApiKey, AuditEvent, Principal, User } from '#shared/domain/model.ts';
import type { OperationId, PublicOperationId } from '#shared/http/routes.ts';
import { reportLeakedKeys } from '#shared/services/leaked-keys.ts';
import { rollAccountKey, rollApiKey } from '#shared/services/key-rolls.ts';
import { getAccount, revealAccountKey, setApiEnabled } from '#shared/services/accounts.ts';
import { createApiKey, deleteApiKey, getApiKey, listApiKeys } from '#shared/services/api-keys.ts';
import { listEvents } from '#shared/services/audit-log.ts';
import { getUsage } from '#shared/services/plans.ts';
import { addCidrRule, deleteCidrRule, listCidrRules, updateCidrRule } from '#shared/services/cidr-allow-list.ts';
import { changeUserRole, createUser, deleteUser, listUsers } from '#shared/services/users.ts';

/** A validated request: the parts typed by the operation's schemas, and who is asking. */
export interface OperationRequest<K extends OperationId> {
  /** Who is calling; none on a route that needs no keys. */
  readonly principal: K extends PublicOperationId ? undefined : Principal;
  readonly actor: Actor;
  readonly sourceIp: string;
  readonly params: ParamsOf<K>;
  readonly query: QueryOf<K>;
  readonly body: BodyOf<K>;
}

export type Operation<K extends OperationId> = (deps: ApiDeps, request: OperationRequest<K>) => Promise<ResponseOf<K>>;

/**
 * Each route's one use case and the mapping of its result to the response body. Every store
 * call is scoped by the principal's account, so an id of another account is simply not found.
 */
export const OPERATIONS: { readonly [K in OperationId]: Operation<K> } = {
  whoami: (_deps, { principal, sourceIp }) =>
    Promise.resolve({ accountId: principal.accountId, userId: principal.userId, role: principal.role, keyId: principal.keyId, sourceIp }),
  getAccount: async (deps, { principal }) => accountView(await getAccount(deps, principal.accountId)),
  revealAccountKey: async (deps, { principal, actor }) => ({ accountKey: await revealAccountKey(deps, principal.accountId, actor) }),
  updateAccount: async (deps, { principal, actor, body }) => accountView(await setApiEnabled(deps, principal.accountId, body.apiEnabled, actor)),

  listUsers: async (deps, { principal }) => ({ items: (await listUsers(deps, principal.accountId)).map(userView) }),
  createUser: async (deps, { principal, actor, body }) => userView(await createUser(deps, principal.accountId, body, actor)),
  updateUser: async (deps, { principal, actor, params, body }) =>
    userView(await changeUserRole(deps, principal.accountId, params.userId, body.role, actor)),
  deleteUser: async (deps, { principal, actor, params }) => {
    await deleteUser(deps, principal.accountId, params.userId, actor);
    return undefined;
  },

  listApiKeys: async (deps, { principal, query }) => {
    const page = await listApiKeys(deps, principal.accountId, query);
    return { items: page.items.map(apiKeyView), nextCursor: page.nextCursor };
  },
  createApiKey: async (deps, { principal, actor, body }) => {
    const created = await createApiKey(deps, principal.accountId, body, actor);
    return { ...apiKeyView(created.key), secret: created.secret };
  },
  getApiKey: async (deps, { principal, params }) => apiKeyView(await getApiKey(deps, principal.accountId, params.keyId)),
  deleteApiKey: async (deps, { principal, actor, params }) => {
    await deleteApiKey(deps, principal.accountId, params.keyId, actor);
    return undefined;
  },

  listCidrRules: async (deps, { principal, params }) => ({
    rules: (await listCidrRules(deps, principal.accountId, params.keyId)).map(cidrRuleView),
  }),
  addCidrRule: async (deps, { principal, actor, params, body }) =>
    cidrRuleView(await addCidrRule(deps, principal.accountId, params.keyId, body.cidr, actor)),
  updateCidrRule: async (deps, { principal, actor, params, body }) =>
    cidrRuleView(await updateCidrRule(deps, principal.accountId, params.keyId, params.ruleId, body.cidr, actor)),
  deleteCidrRule: async (deps, { principal, actor, params }) => {
    await deleteCidrRule(deps, principal.accountId, params.keyId, params.ruleId, actor);
    return undefined;
  },

  listEvents: async (deps, { principal, query }) => {
    const page = await listEvents(deps, principal.accountId, query);
    return { items: page.items.map(auditEventView), nextCursor: page.nextCursor };
  },

  rollApiKey: async (deps, { principal, actor, params, body }) => {
    const rolled = await rollApiKey(deps, principal.accountId, params.keyId, body.gracePeriodSeconds, actor);
    return { ...apiKeyView(rolled.key), secret: rolled.secret, previousSecretExpiresAt: rolled.previousSecretExpiresAt };
  },
  rollAccountKey: async (deps, { principal, actor, body }) => {
    const rolled = await rollAccountKey(deps, principal.accountId, body.gracePeriodSeconds, actor);
    return { accountKey: rolled.accountKey, previousKeyExpiresAt: rolled.previousKeyExpiresAt };
  },
  reportLeakedKeys: async (deps, { sourceIp, body }) => {
    await reportLeakedKeys(deps, body.keys, sourceIp);
    return {};
  },
  getAccountUsage: async (deps, { principal }) => {
    const usage = await getUsage(deps, principal.accountId);
    const { rateLimit, burstLimit, quota } = usage.plan;
    return {
      plan: { rateLimit, burstLimit, quota: quota === null ? null : { limit: quota.limit, period: quota.period } },
      used: usage.used,
      remaining: usage.remaining,
      periodStart: usage.periodStart,
    };
  },
};

// Views name every field they show, so nothing stored (digests, ciphertexts, role copies,
// account ids) reaches a response by accident.

function accountView(account: Account): ResponseOf<'getAccount'> {
  return {
    id: account.id,
    name: account.name,
    apiEnabled: account.apiEnabled,
    accountKey: { masked: account.accountKeyMasked },
    createdAt: account.createdAt,
    accountKeyLeakReportedAt: account.accountKeyLeakReportedAt ?? null,
  };
}

function userView(user: User): ResponseOf<'createUser'> {
  return { id: user.id, name: user.name, email: user.email, role: user.role, createdAt: user.createdAt };
}

function cidrRuleView(rule: CidrRule): ResponseOf<'addCidrRule'> {
  return { id: rule.id, cidr: rule.cidr, createdAt: rule.createdAt };
}

function apiKeyView(key: ApiKey): ResponseOf<'getApiKey'> {
  return {
    id: key.id,
    name: key.name,
    userId: key.userId,
    createdAt: key.createdAt,
    lastUsedAt: key.lastUsedAt,
    cidrAllowList: key.cidrAllowList.map(cidrRuleView),
    expiresAt: key.expiresAt ?? null,
    createdBy: { userId: key.createdBy.userId, keyId: key.createdBy.keyId },
  };
}

function auditEventView(event: AuditEvent): ResponseOf<'listEvents'>['items'][number] {
  return {
    id: event.id,
    time: event.time,
    action: event.action,
    actor: { userId: event.actor.userId, keyId: event.actor.keyId },
    target: event.target,
    sourceIp: event.sourceIp,
  };
}
