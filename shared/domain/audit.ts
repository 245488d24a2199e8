import { newId } from './ids.ts';
import type { PresentedSecrets } from './secret-tags.ts';
import type { AuditEvent } from './model.ts';

export interface Actor {
  readonly userId: string | null;
  readonly keyId: string | null;
  readonly sourceIp: string | null;
  /** The secrets a key actor's request was authorized with; absent for the system. */
  readonly presentedSecrets?: PresentedSecrets | undefined;
}

/** The system itself (admin CLI, local bootstrap) as an actor. */
export const SYSTEM_ACTOR: Actor = { userId: null, keyId: null, sourceIp: null };

/**
 * Another event of the same request (the same account, actor, time and source): a change that
 * has several effects, such as a role change that deletes keys, audits each one.
 */
export function relatedEvent(event: AuditEvent, action: string, target: string): AuditEvent {
  return { ...event, id: newId(), action, target };
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
