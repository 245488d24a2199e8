import { type Actor, auditEvent } from '../domain/audit.ts';
import { NotFoundError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import type { Role } from '../domain/roles.ts';
import type { ApiDeps } from '../ports/deps.ts';
import type { UserStore } from '../ports/user-store.ts';
import type { User } from '../domain/model.ts';
import { withAuthorizerCacheFlush } from './revocation.ts';

/** What the user use cases touch: the table and the authorizer cache, no KMS and no usage plans. */
type UserDeps = Pick<ApiDeps, 'now' | 'authorizerCache' | 'logger'> & { readonly store: UserStore };

export interface NewUser {
  readonly name: string;
  readonly email: string;
  readonly role: Role;
}

export function listUsers(deps: UserDeps, accountId: string): Promise<readonly User[]> {
  return deps.store.listUsers(accountId);
}

export async function createUser(deps: UserDeps, accountId: string, input: NewUser, actor: Actor): Promise<User> {
  const now = deps.now();
  const user: User = { id: newId(), accountId, name: input.name.trim(), email: input.email, role: input.role, createdAt: now.toISOString() };
  await deps.store.createUser(user, auditEvent(accountId, actor, 'user.create', `user/${user.id}`, now));
  return user;
}

/**
 * Changes a user's role; the store copies it onto each of their keys in the same transaction.
 * A role that may not hold keys (manager, member, billing-admin) deletes the user's keys in
 * that transaction: they stop at once, and a later promotion cannot bring old secrets back.
 */
export async function changeUserRole(deps: UserDeps, accountId: string, userId: string, role: Role, actor: Actor): Promise<User> {
  const event = auditEvent(accountId, actor, 'user.role-change', `user/${userId}`, deps.now());
  // A cached Allow for the old role must not outlive the change.
  const changed = await withAuthorizerCacheFlush(deps, () => deps.store.changeRole(accountId, userId, role, event));
  return changed.user;
}

export async function deleteUser(deps: UserDeps, accountId: string, userId: string, actor: Actor): Promise<void> {
  const event = auditEvent(accountId, actor, 'user.delete', `user/${userId}`, deps.now());
  // The user's keys are gone: no cached Allow for them may survive.
  await withAuthorizerCacheFlush(deps, () => deps.store.deleteUser(accountId, userId, event));
}

export async function getUser(deps: UserDeps, accountId: string, userId: string): Promise<User> {
  const user = await deps.store.getUser(accountId, userId);
  if (user === undefined) throw new NotFoundError('user');
  return user;
}
