import { SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import { createPepperProvider } from '#shared/authorization/peppers.ts';
import { createApiKey } from '#shared/services/api-keys.ts';
import { rollAccountKey } from '#shared/services/key-rolls.ts';
import { limitsFromEnv } from '#shared/adapters/environment.ts';
import { MAX_GRACE_PERIOD_SECONDS } from '#shared/http/schemas.ts';
import { createLogger } from '#functions/commons/logger.ts';
import type { Command, CommandInput } from './command.ts';
import { UsageError, onlyAccountId, print, required } from './options.ts';

/** Keys: a user key for a user of an account, and a new account key. */

async function createKeyCommand({ command, positionals, values, target, now }: CommandInput): Promise<void> {
  const accountId = onlyAccountId(command, positionals);
  const peppers = createPepperProvider(target.store, target.secrets);
  const created = await createApiKey(
    { store: target.store, peppers, now, limits: limitsFromEnv() },
    accountId,
    { userId: required(values, 'user'), name: required(values, 'key-name') },
    SYSTEM_ACTOR,
  );
  print(values.json, { key: created.key, userKey: created.secret }, [
    `Created user key ${created.key.id} (${created.key.name}) for user ${created.key.userId} of account ${accountId}.`,
    'It is shown this once; only its digest is stored:',
    `export LATCHKEY_USER_KEY=${created.secret}`,
  ]);
}

async function rollAccountKeyCommand({ command, positionals, values, target, now }: CommandInput): Promise<void> {
  const accountId = onlyAccountId(command, positionals);
  const grace = values.grace ?? '0';
  const gracePeriodSeconds = Number(grace);
  if (!/^\d+$/.test(grace) || gracePeriodSeconds > MAX_GRACE_PERIOD_SECONDS) {
    throw new UsageError(`--grace must be a whole number of seconds from 0 to ${MAX_GRACE_PERIOD_SECONDS}`);
  }
  const peppers = createPepperProvider(target.store, target.secrets);
  const logger = createLogger('latchkey-admin');
  const rolled = await rollAccountKey(
    { store: target.store, secrets: target.secrets, peppers, now, authorizerCache: target.authorizerCache, logger },
    accountId,
    gracePeriodSeconds,
    SYSTEM_ACTOR,
  );
  const warning = target.cacheWarning;
  print(values.json, { accountKey: rolled.accountKey, previousKeyExpiresAt: rolled.previousKeyExpiresAt, ...(warning === undefined ? {} : { warning }) }, [
    `Rolled the account key of account ${accountId}.`,
    rolled.previousKeyExpiresAt === null
      ? 'The previous account key stopped working.'
      : `The previous account key works until ${rolled.previousKeyExpiresAt}.`,
    'The new one is shown this once here (owners can reveal it again):',
    `export LATCHKEY_ACCOUNT_KEY=${rolled.accountKey}`,
    ...(warning === undefined ? [] : [`Warning: ${warning}.`]),
  ]);
}

export const KEY_COMMANDS: Readonly<Record<string, Command>> = {
  'create-key': createKeyCommand,
  'roll-account-key': rollAccountKeyCommand,
};
