import type { CidrAllowList, CidrRule } from '../domain/cidr.ts';
import type { AuditEvent } from '../domain/model.ts';
import type { Limits } from './limits.ts';

/** Each key's CIDR allow list. */
export interface AllowListStore {
  /**
   * Applies `edit` to the key's current allow list and stores the result with the event,
   * atomically; a concurrent edit makes it re-read and re-apply, so nothing is lost.
   */
  editAllowList<T>(
    accountId: string,
    keyId: string,
    edit: (list: CidrAllowList) => { readonly list: CidrAllowList; readonly result: T },
    event: AuditEvent,
    limits: Limits,
  ): Promise<T>;
  /**
   * Appends one rule to the key's allow list in a single conditional write: refuses a full list
   * (LimitExceededError) or a CIDR already on it (ConflictError) with the same answers as
   * CidrAllowList.add. It never re-reads and re-applies, so many adds racing on one key cost one
   * write each instead of retrying against every other winner.
   */
  addCidrRule(accountId: string, keyId: string, rule: CidrRule, event: AuditEvent, limits: Limits): Promise<CidrRule>;
}
