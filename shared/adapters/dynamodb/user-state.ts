import { NotFoundError } from '../../domain/errors.ts';
import type { User } from '../../domain/model.ts';
import { accountPk, readNumber, readStringSet, userFromItem, userSk } from './items.ts';
import type { DynamoDbTable } from './table.ts';

/** A user as read for a write that must not race: its keys and the revision the write is conditioned on. */
export interface UserState {
  readonly user: User;
  readonly keyIds: readonly string[];
  readonly rev: number;
}

export async function readUserState(table: DynamoDbTable, accountId: string, userId: string): Promise<UserState> {
  const item = await table.get(accountPk(accountId), userSk(userId));
  if (item === undefined) throw new NotFoundError('user');
  return { user: userFromItem(item), keyIds: readStringSet(item, 'keyIds'), rev: readNumber(item, 'rev') };
}
