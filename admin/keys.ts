import { SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import { createPepperProvider } from '#shared/authorization/peppers.ts';
import { createApiKey } from '#shared/services/api-keys.ts';
import { rollAccountKey } from '#shared/services/key-rolls.ts';
import { limitsFromEnv } from '#shared/adapters/environment.ts';
import { MAX_GRACE_PERIOD_SECONDS } from '#shared/http/schemas.ts';
import { createLogger } from '#functions/commons/logger.ts';
import { loadRoutesModule } from '#local/gateway/downstream.ts';
import type { PermissionCatalog } from '#shared/domain/key-permissions.ts';
import { MANAGEMENT_PERMISSION_CATALOG, buildPermissionCatalog } from '#shared/http/permission-catalog.ts';
import { resolveDownstreamRoutes } from '#shared/http/team-routes.ts';
import type { Command, CommandInput } from './command.ts';
import { UsageError, onlyAccountId, print, required } from './options.ts';

/** Keys: a user key for a user of an account, and a new account key. */

async function createKeyCommand({ command, positionals, values, target, now }: CommandInput): Promise<void> {
  const accountId = onlyAccountId(command, positionals);
  const permissions = permissionsOption(values.permissions);
  const permissionCatalog = await catalogOf(values.routes);
  const peppers = createPepperProvider(target.store, target.secrets);
  const created = await createApiKey(
    { store: target.store, peppers, now, limits: limitsFromEnv(), permissionCatalog },
    accountId,
    { userId: required(values, 'user'), name: required(values, 'key-name'), ...(permissions === undefined ? {} : { permissions }) },
    SYSTEM_ACTOR,
  );
  const restriction = created.key.permissions === null || created.key.permissions === undefined ? 'unrestricted' : `restricted to ${created.key.permissions.join(', ')}`;
  print(values.json, { key: created.key, userKey: created.secret }, [
    `Created user key ${created.key.id} (${created.key.name}) for user ${created.key.userId} of account ${accountId}, ${restriction}.`,
    'It is shown this once; only its digest is stored:',
    `export LATCHKEY_USER_KEY=${created.secret}`,
  ]);
}

/** `--permissions a:read,b:write`: the names, as given; absent: an unrestricted key. */
function permissionsOption(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '') throw new UsageError('--permissions names at least one permission (leave it out for an unrestricted key)');
  return value.split(',').map((name) => name.trim());
}

/**
 * The permissions a key may be restricted to: the management routes', and with `--routes FILE`
 * (the team's routes module, as `npm start -- --routes` and the stack take it) the team routes'.
 */
async function catalogOf(routesFile: string | undefined): Promise<PermissionCatalog> {
  if (routesFile === undefined) return MANAGEMENT_PERMISSION_CATALOG;
  const { routes } = await loadRoutesModule(routesFile);
  return buildPermissionCatalog(resolveDownstreamRoutes(routes));
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
