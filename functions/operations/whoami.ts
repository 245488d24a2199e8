import { WHOAMI_SCHEMAS } from '#shared/http/schemas/whoami.ts';
import type { ApiDeps } from '#shared/ports/deps.ts';
import { MANAGEMENT_PERMISSION_CATALOG } from '#shared/http/permission-catalog.ts';
import type { HandlerDeps, OperationGroup } from '../commons/operations.ts';

/** What the light routes need: the handler's own ports, and this deployment's permissions for the list. */
export type WhoAmIDeps = HandlerDeps & Pick<ApiDeps, 'permissionCatalog'>;

/**
 * Who is asking, from the authorizer's context alone, and what a key may be restricted to: no
 * use case and no table read beyond the handler's own, so they share the light function.
 */
export const WHOAMI_OPERATIONS: OperationGroup<'whoami', WhoAmIDeps> = {
  group: 'whoami',
  schemas: WHOAMI_SCHEMAS,
  operations: {
    whoami: (_deps, { principal, sourceIp }) =>
      Promise.resolve({ accountId: principal.accountId, userId: principal.userId, role: principal.role, keyId: principal.keyId, sourceIp }),
    listPermissions: (deps) =>
      Promise.resolve({
        items: (deps.permissionCatalog ?? MANAGEMENT_PERMISSION_CATALOG).map((entry) => ({ name: entry.name, routes: [...entry.routes], roles: [...entry.roles] })),
      }),
  },
};
