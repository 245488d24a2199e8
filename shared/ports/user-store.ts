import type { Role } from '../domain/roles.ts';
import type { AuditEvent, User } from '../domain/model.ts';

/** An account's users. */
export interface UserStore {
  listUsers(accountId: string): Promise<readonly User[]>;
  getUser(accountId: string, userId: string): Promise<User | undefined>;
  createUser(user: User, event: AuditEvent): Promise<void>;
  /**
   * Changes a user's role and the copy of it on each of their keys, in one transaction; a role
   * that may not hold keys deletes the user's keys in that transaction instead. Refuses
   * (ConflictError) to leave the account without an owner.
   */
  changeRole(
    accountId: string,
    userId: string,
    role: Role,
    event: AuditEvent,
  ): Promise<{ readonly user: User; readonly deletedKeyIds: readonly string[] }>;
  /** Deletes the user and all their keys in one transaction; never the last owner. */
  deleteUser(accountId: string, userId: string, event: AuditEvent): Promise<{ readonly deletedKeyIds: readonly string[] }>;
}
