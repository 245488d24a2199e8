import type { ApiDeps } from '../deps.ts';
import type { AuditEvent, Page } from '../model.ts';
import type { ListOptions } from '../ports.ts';

/** The account's audit log, newest first. */
export function listEvents(deps: ApiDeps, accountId: string, options: ListOptions): Promise<Page<AuditEvent>> {
  return deps.store.listEvents(accountId, options);
}
