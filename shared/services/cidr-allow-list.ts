import { type Actor, auditEvent } from '../domain/audit.ts';
import { type CidrRule, parseCidr } from '../domain/cidr.ts';
import { newId } from '../domain/ids.ts';
import type { AllowListStore } from '../ports/allow-list-store.ts';
import type { ApiDeps } from '../ports/deps.ts';
import type { KeyStore } from '../ports/key-store.ts';
import { getApiKey } from './api-keys.ts';
import { withAuthorizerCacheFlush } from './revocation.ts';

/** What the allow-list use cases touch: the table, its limits and the authorizer cache. */
type AllowListDeps = Pick<ApiDeps, 'now' | 'limits' | 'authorizerCache' | 'logger'> & { readonly store: AllowListStore & Pick<KeyStore, 'getKey'> };

/**
 * A key's CIDR allow list. An add is one conditional append (`addCidrRule`), so adds racing on
 * one key each land or are refused without retrying against one another; an edit or removal
 * goes through `editAllowList`, which applies it to the current list atomically. Every
 * committed change flushes the authorizer cache: adding a rule to an empty list, editing or
 * removing one can each shut out an address that a cached Allow still lets in.
 */
export async function listCidrRules(deps: AllowListDeps, accountId: string, keyId: string): Promise<readonly CidrRule[]> {
  return (await getApiKey(deps, accountId, keyId)).cidrAllowList;
}

export async function addCidrRule(deps: AllowListDeps, accountId: string, keyId: string, cidrInput: string, actor: Actor): Promise<CidrRule> {
  const cidr = parseCidr(cidrInput, 'cidr');
  const now = deps.now();
  const rule: CidrRule = { id: newId(), cidr, createdAt: now.toISOString() };
  const event = auditEvent(accountId, actor, 'cidr-rule.create', ruleTarget(keyId, rule.id), now);
  return withAuthorizerCacheFlush(deps, () => deps.store.addCidrRule(accountId, keyId, rule, event, deps.limits));
}

export async function updateCidrRule(
  deps: AllowListDeps,
  accountId: string,
  keyId: string,
  ruleId: string,
  cidrInput: string,
  actor: Actor,
): Promise<CidrRule> {
  const cidr = parseCidr(cidrInput, 'cidr');
  const event = auditEvent(accountId, actor, 'cidr-rule.update', ruleTarget(keyId, ruleId), deps.now());
  return withAuthorizerCacheFlush(deps, () =>
    deps.store.editAllowList(
      accountId,
      keyId,
      (list) => {
        const { list: edited, rule } = list.replace(ruleId, cidr);
        return { list: edited, result: rule };
      },
      event,
      deps.limits,
    ),
  );
}

export async function deleteCidrRule(deps: AllowListDeps, accountId: string, keyId: string, ruleId: string, actor: Actor): Promise<void> {
  const event = auditEvent(accountId, actor, 'cidr-rule.delete', ruleTarget(keyId, ruleId), deps.now());
  await withAuthorizerCacheFlush(deps, () =>
    deps.store.editAllowList(accountId, keyId, (list) => ({ list: list.remove(ruleId), result: undefined }), event, deps.limits),
  );
}

function ruleTarget(keyId: string, ruleId: string): string {
  return `api-key/${keyId}/cidr-rule/${ruleId}`;
}
