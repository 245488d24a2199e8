import { WHOAMI_SCHEMAS } from '#shared/http/schemas/whoami.ts';
import type { HandlerDeps, OperationGroup } from '../commons/operations.ts';

/** Who is asking, from the authorizer's context alone: no use case, so nothing beyond the handler's own ports. */
export const WHOAMI_OPERATIONS: OperationGroup<'whoami', HandlerDeps> = {
  group: 'whoami',
  schemas: WHOAMI_SCHEMAS,
  operations: {
    whoami: (_deps, { principal, sourceIp }) =>
      Promise.resolve({ accountId: principal.accountId, userId: principal.userId, role: principal.role, keyId: principal.keyId, sourceIp }),
  },
};
