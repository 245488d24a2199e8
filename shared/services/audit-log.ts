import type { AuditStore } from '../ports/audit-store.ts';
import type { AuditEvent, Page } from '../domain/model.ts';
import type { ListOptions } from '../ports/list-options.ts';

/** The account's audit log, newest first. */
export function listEvents(deps: { readonly store: Pick<AuditStore, 'listEvents'> }, accountId: string, options: ListOptions): Promise<Page<AuditEvent>> {
  return deps.store.listEvents(accountId, options);
}
