import { LOGS_SCHEMAS } from '#shared/http/schemas/logs.ts';
import type { AuditStore } from '#shared/ports/audit-store.ts';
import type { ApiDeps } from '#shared/ports/deps.ts';
import type { KeyStore } from '#shared/ports/key-store.ts';
import { listEvents } from '#shared/services/audit-log.ts';
import type { OperationGroup } from '../commons/operations.ts';
import { auditEventView } from '../commons/views.ts';

export type LogsDeps = Pick<ApiDeps, 'logger' | 'now'> & { readonly store: Pick<AuditStore, 'listEvents'> & Pick<KeyStore, 'recordKeyUse'> };

export const LOGS_OPERATIONS: OperationGroup<'logs', LogsDeps> = {
  group: 'logs',
  schemas: LOGS_SCHEMAS,
  operations: {
    listEvents: async (deps, { principal, query }) => {
      const page = await listEvents(deps, principal.accountId, query);
      return { items: page.items.map(auditEventView), nextCursor: page.nextCursor };
    },
  },
};
