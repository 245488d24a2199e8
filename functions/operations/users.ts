import { USERS_SCHEMAS } from '#shared/http/schemas/users.ts';
import type { ApiDeps } from '#shared/ports/deps.ts';
import type { KeyStore } from '#shared/ports/key-store.ts';
import type { UserStore } from '#shared/ports/user-store.ts';
import { changeUserRole, createUser, deleteUser, listUsers } from '#shared/services/users.ts';
import type { OperationGroup } from '../commons/operations.ts';
import { userView } from '../commons/views.ts';

export type UsersDeps = Pick<ApiDeps, 'now' | 'authorizerCache' | 'logger'> & { readonly store: UserStore & Pick<KeyStore, 'recordKeyUse'> };

export const USERS_OPERATIONS: OperationGroup<'users', UsersDeps> = {
  group: 'users',
  schemas: USERS_SCHEMAS,
  operations: {
    listUsers: async (deps, { principal }) => ({ items: (await listUsers(deps, principal.accountId)).map(userView) }),
    createUser: async (deps, { principal, actor, body }) => userView(await createUser(deps, principal.accountId, body, actor)),
    updateUser: async (deps, { principal, actor, params, body }) =>
      userView(await changeUserRole(deps, principal.accountId, params.userId, body.role, actor)),
    deleteUser: async (deps, { principal, actor, params }) => {
      await deleteUser(deps, principal.accountId, params.userId, actor);
      return undefined;
    },
  },
};
