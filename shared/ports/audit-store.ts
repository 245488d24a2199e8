import type { AuditEvent, Page } from '../domain/model.ts';
import type { ListOptions } from './list-options.ts';

/** An account's audit events (every other write carries its own, in its own transaction). */
export interface AuditStore {
  recordEvent(event: AuditEvent): Promise<void>;
  /** Newest first. */
  listEvents(accountId: string, options: ListOptions): Promise<Page<AuditEvent>>;
}
