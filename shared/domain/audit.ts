import { newId } from './ids.ts';
import type { PresentedSecrets } from './secret-tags.ts';
import type { AuditEvent } from './model.ts';

export interface Actor {
  readonly userId: string | null;
  readonly keyId: string | null;
  readonly sourceIp: string | null;
  /** The secrets a key actor's request was authorized with; absent for the system. */
  readonly presentedSecrets?: PresentedSecrets | undefined;
  /**
   * What a key actor's key may use (DESIGN 14): a list for a restricted key, null or absent for
   * an unrestricted key or the system. A restricted key never hands out more than this.
   */
  readonly permissions?: readonly string[] | null | undefined;
}

/** The system itself (admin CLI, local bootstrap) as an actor. */
export const SYSTEM_ACTOR: Actor = { userId: null, keyId: null, sourceIp: null };

/**
 * An effect of the change `event` records, audited on its own (a role change that deletes keys
 * audits each deletion): the same account, actor and source, dated a millisecond before the
 * change, so that the log, newest first, shows the change and then what it took away (events
 * of one instant would otherwise fall in the random order of their ids).
 */
export function effectOf(event: AuditEvent, action: string, target: string): AuditEvent {
  return { ...event, id: newId(), time: new Date(Date.parse(event.time) - 1).toISOString(), action, target };
}

export function auditEvent(accountId: string, actor: Actor, action: string, target: string, at: Date): AuditEvent {
  return {
    id: newId(),
    accountId,
    time: at.toISOString(),
    action,
    actor: { userId: actor.userId, keyId: actor.keyId },
    target,
    sourceIp: actor.sourceIp,
    ...(actor.presentedSecrets === undefined ? {} : { presentedSecrets: actor.presentedSecrets }),
  };
}
