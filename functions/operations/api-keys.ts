import { API_KEYS_SCHEMAS } from '#shared/http/schemas/api-keys.ts';
import type { ApiDeps } from '#shared/ports/deps.ts';
import type { KeyLifecycleStore } from '#shared/ports/key-lifecycle-store.ts';
import type { KeyStore } from '#shared/ports/key-store.ts';
import type { UserStore } from '#shared/ports/user-store.ts';
import { createApiKey, deleteApiKey, getApiKey, listApiKeys, updateApiKeyPermissions } from '#shared/services/api-keys.ts';
import { rollApiKey } from '#shared/services/key-rolls.ts';
import type { OperationGroup } from '../commons/operations.ts';
import { apiKeyView } from '../commons/views.ts';

/** Issuing and rolling digest new secrets: the peppers (KMS), besides the table. */
export type ApiKeysDeps = Pick<ApiDeps, 'now' | 'peppers' | 'limits' | 'authorizerCache' | 'logger' | 'permissionCatalog'> & {
  readonly store: KeyStore & Pick<UserStore, 'getUser'> & Pick<KeyLifecycleStore, 'rollKey'>;
};

export const API_KEYS_OPERATIONS: OperationGroup<'api-keys', ApiKeysDeps> = {
  group: 'api-keys',
  schemas: API_KEYS_SCHEMAS,
  operations: {
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
    rollApiKey: async (deps, { principal, actor, params, body }) => {
      const rolled = await rollApiKey(deps, principal.accountId, params.keyId, body.gracePeriodSeconds, actor);
      return { ...apiKeyView(rolled.key), secret: rolled.secret, previousSecretExpiresAt: rolled.previousSecretExpiresAt };
    },
    updateApiKey: async (deps, { principal, actor, params, body }) =>
      apiKeyView(await updateApiKeyPermissions(deps, principal.accountId, params.keyId, body.permissions, actor)),
  },
};
