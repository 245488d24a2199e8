import { SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import { createPepperProvider } from '#shared/authorization/peppers.ts';
import { createAccount, setApiEnabled } from '#shared/services/accounts.ts';
import { createLogger } from '#functions/commons/logger.ts';
import type { Command, CommandInput } from './command.ts';
import { onlyAccountId, print, required } from './options.ts';
import { requireUsagePlans } from './target.ts';

/** Accounts: making one with its first owner and keys, and the API switch. */

async function createAccountCommand({ command, values, target, now }: CommandInput): Promise<void> {
  const input = {
    name: required(values, 'name'),
    ownerName: required(values, 'owner-name'),
    ownerEmail: required(values, 'owner-email'),
    ...(values['key-name'] === undefined ? {} : { keyName: values['key-name'] }),
    apiEnabled: true,
  };
  const peppers = createPepperProvider(target.store, target.secrets);
  const usagePlans = requireUsagePlans(target, command);
  const created = await createAccount({ store: target.store, secrets: target.secrets, peppers, now, usagePlans }, input, SYSTEM_ACTOR);
  print(
    values.json,
    { account: created.account, owner: created.owner, keyId: created.keyId, accountKey: created.accountKey, userKey: created.userKey },
    [
      `Created account ${created.account.id} (${created.account.name}) in ${target.description}.`,
      `Owner ${created.owner.id} (${created.owner.email}) holds user key ${created.keyId}.`,
      'These keys are shown this once; only their digests and ciphertext are stored:',
      `export LATCHKEY_ACCOUNT_KEY=${created.accountKey}`,
      `export LATCHKEY_USER_KEY=${created.userKey}`,
    ],
  );
}

async function setApiEnabledCommand({ command, positionals, values, target, now }: CommandInput): Promise<void> {
  const accountId = onlyAccountId(command, positionals);
  const enabled = command === 'enable-api';
  const logger = createLogger('latchkey-admin');
  const account = await setApiEnabled({ store: target.store, authorizerCache: target.authorizerCache, logger, now }, accountId, enabled, SYSTEM_ACTOR);
  const warning = enabled ? undefined : target.cacheWarning;
  print(values.json, { account, ...(warning === undefined ? {} : { warning }) }, [
    `The API of account ${account.id} (${account.name}) is now ${account.apiEnabled ? 'enabled' : 'disabled'}.`,
    ...(warning === undefined ? [] : [`Warning: ${warning}.`]),
  ]);
}

export const ACCOUNT_COMMANDS: Readonly<Record<string, Command>> = {
  'create-account': createAccountCommand,
  'enable-api': setApiEnabledCommand,
  'disable-api': setApiEnabledCommand,
};
