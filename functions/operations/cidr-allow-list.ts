import { CIDR_ALLOW_LIST_SCHEMAS } from '#shared/http/schemas/cidr-allow-list.ts';
import type { AllowListStore } from '#shared/ports/allow-list-store.ts';
import type { ApiDeps } from '#shared/ports/deps.ts';
import type { KeyStore } from '#shared/ports/key-store.ts';
import { addCidrRule, deleteCidrRule, listCidrRules, updateCidrRule } from '#shared/services/cidr-allow-list.ts';
import type { OperationGroup } from '../commons/operations.ts';
import { cidrRuleView } from '../commons/views.ts';

export type CidrAllowListDeps = Pick<ApiDeps, 'now' | 'limits' | 'authorizerCache' | 'logger'> & {
  readonly store: AllowListStore & Pick<KeyStore, 'getKey' | 'recordKeyUse'>;
};

export const CIDR_ALLOW_LIST_OPERATIONS: OperationGroup<'cidr-allow-list', CidrAllowListDeps> = {
  group: 'cidr-allow-list',
  schemas: CIDR_ALLOW_LIST_SCHEMAS,
  operations: {
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
  },
};
