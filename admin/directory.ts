import type { ApiKey } from '#shared/domain/model.ts';
import { getAccount } from '#shared/services/accounts.ts';
import { MAX_PAGE_SIZE } from '#shared/http/schemas.ts';
import type { Command, CommandInput } from './command.ts';
import { UsageError, onlyAccountId, print } from './options.ts';

/** What there is: the accounts, and an account's users with their keys (the ids create-key needs). */

async function listAccountsCommand({ command, positionals, values, target }: CommandInput): Promise<void> {
  if (positionals.length > 0) throw new UsageError(`${command} takes no arguments`);
  const accounts = await target.accounts.listAccounts();
  print(values.json, { accounts }, [
    `${accounts.length} account${accounts.length === 1 ? '' : 's'} in ${target.description}:`,
    ...accounts.map((a) => `  ${a.id}  ${a.name}  API ${a.apiEnabled ? 'enabled' : 'disabled'}  created ${a.createdAt}`),
  ]);
}

async function listUsersCommand({ command, positionals, values, target }: CommandInput): Promise<void> {
  const accountId = onlyAccountId(command, positionals);
  const account = await getAccount(target, accountId);
  const users = await target.store.listUsers(accountId);
  const keys: ApiKey[] = [];
  let cursor: string | undefined;
  do {
    const page = await target.store.listKeys(accountId, { limit: MAX_PAGE_SIZE, cursor });
    keys.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  const keysOf = (userId: string): ApiKey[] => keys.filter((key) => key.userId === userId);
  print(
    values.json,
    { account: { id: account.id, name: account.name }, users: users.map((user) => ({ ...user, keys: keysOf(user.id).map(({ id, name, expiresAt }) => ({ id, name, expiresAt })) })) },
    [
      `Users of account ${account.id} (${account.name}):`,
      ...users.flatMap((user) => [
        `  ${user.id}  ${user.role}  ${user.name} <${user.email}>`,
        ...keysOf(user.id).map((key) => `      key ${key.id}  ${key.name}${key.expiresAt === null ? '' : `  expires ${key.expiresAt}`}`),
      ]),
    ],
  );
}

export const DIRECTORY_COMMANDS: Readonly<Record<string, Command>> = {
  'list-accounts': listAccountsCommand,
  'list-users': listUsersCommand,
};
