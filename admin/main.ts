import '#local/process/sdk-environment.ts';
import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ApiGatewayAuthorizerCache } from '#shared/adapters/apigw-authorizer-cache.ts';
import { ApiGatewayUsagePlans } from '#shared/adapters/apigw-usage-plans.ts';
import { LocalUsagePlans } from '#local/storage/local-usage-plans.ts';
import { createTable } from '#shared/adapters/create-table.ts';
import { DynamoDbStore } from '#shared/adapters/dynamodb-store.ts';
import { DynamoDbDigestStore } from '#shared/adapters/dynamodb/digest-upgrades.ts';
import { KmsSecrets } from '#shared/adapters/kms-secrets.ts';
import { LocalSecrets } from '#local/storage/local-secrets.ts';
import { SYSTEM_ACTOR } from '#shared/domain/audit.ts';
import { ConflictError, NotFoundError, RoleCannotHoldKeysError, ValidationError } from '#shared/domain/errors.ts';
import { PEPPER_RING_MAX_AGE_SECONDS, createPepperProvider, ensurePepper, rotatePepper } from '#shared/authorization/peppers.ts';
import type { AuthorizerCache } from '#shared/ports/authorizer-cache.ts';
import type { Secrets } from '#shared/ports/secrets.ts';
import type { UsagePlans } from '#shared/ports/usage-plans.ts';
import { type Plan, validatePlan } from '#shared/domain/plan.ts';
import { setPlan } from '#shared/services/plans.ts';
import { createAccount, setApiEnabled } from '#shared/services/accounts.ts';
import { createApiKey } from '#shared/services/api-keys.ts';
import { limitsFromEnv } from '#shared/adapters/environment.ts';
import { createLogger } from '#functions/commons/logger.ts';
import { JavaMissingError, startDynamoDbLocal } from '#local/storage/dynamodb-local.ts';
import {
  LOCAL_REFRESH_PATH,
  LOCAL_TABLE_NAME,
  LOCAL_TOKEN_HEADER,
  LocalDataError,
  dataFolderAccessKey,
  localDynamoDbClients,
  localPaths,
  readDataFolderAccessKey,
  readMemoryRuntimes,
  readRuntimeInfo,
  type LocalPaths,
  type RuntimeInfo,
} from '#local/process/runtime-files.ts';

import { MAX_GRACE_PERIOD_SECONDS } from '#shared/http/schemas.ts';
import { rollAccountKey } from '#shared/services/key-rolls.ts';

const USAGE = `Usage: npm run admin -- <command> [options]

Commands:
  create-account --name <name> --owner-name <name> --owner-email <email> [--key-name <name>]
                 Creates an account (API enabled) with its first owner and one user key, and
                 prints the account key and that user key: the only time they are shown.
  create-key <accountId> --user <userId> --key-name <name>
                 Issues a user key to a user of the account (owner, viewer or logs-viewer) and
                 prints it once: the way back in for an account whose owners hold no key.
  enable-api <accountId>     Turns the account's API on.
  disable-api <accountId>    Turns it off: every request with its keys is refused (401) at once.
  rotate-pepper              Adds a new pepper version; new digests use it, old ones still verify.
  set-plan <accountId> --rate <n> --burst <n> [--quota <n> --period DAY|WEEK|MONTH]
  set-plan <accountId> --default
                 Puts the account on its own plan (requests per second, burst, and an optional
                 quota per period), or back on the default plan. In AWS the account's usage-plan
                 key moves to the usage plan of that plan (made on the stage if none has it).
  pepper-usage               How many stored digests use each pepper version (a full read of the
                             table): a version with none left can be retired.
  roll-account-key <accountId> [--grace <seconds>]
                 Gives the account a new account key and prints it once; the previous one keeps
                 working for --grace seconds (default 0: it stops at once; at most 604800).

Target (default: the local runtime):
  local        uses the running \`npm start\` (found through .latchkey/runtime.json) and tells
               it to drop cached decisions (refusing, with nothing changed, if it cannot be
               reached); if none runs, starts DynamoDB Local on .latchkey/dynamodb for the
               duration of the command. A running \`npm start -- --memory\` keeps its data out
               of reach: the command then refuses and changes nothing.
  --data-dir <dir>      local data folder (default: $LATCHKEY_LOCAL_DIR, else .latchkey)
  --endpoint <url>      a DynamoDB-compatible endpoint instead (e.g. a DynamoDB Local you run),
                        with the local master key and the data folder's DynamoDB access key
                        id (if it has one yet); --table defaults to ${LOCAL_TABLE_NAME}
  AWS:         --table <name> --region <region> --kms-key-id <id>
               --rest-api-id <id> --stage <name>: the stage whose usage plans hold the accounts'
               usage-plan keys (needed by create-account and set-plan), and whose authorizer
               cache disable-api flushes; without them cached decisions expire within its TTL.
               Credentials come from the usual AWS SDK sources.

Options:
  --json       machine-readable output on stdout
  --help       this help`;

class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const OPTIONS = {
  name: { type: 'string' },
  'owner-name': { type: 'string' },
  'owner-email': { type: 'string' },
  'key-name': { type: 'string' },
  user: { type: 'string' },
  table: { type: 'string' },
  region: { type: 'string' },
  'kms-key-id': { type: 'string' },
  'rest-api-id': { type: 'string' },
  stage: { type: 'string' },
  endpoint: { type: 'string' },
  'data-dir': { type: 'string' },
  rate: { type: 'string' },
  burst: { type: 'string' },
  quota: { type: 'string' },
  period: { type: 'string' },
  default: { type: 'boolean', default: false },
  grace: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>['values'];

/** A store, secrets and cache to work on, and how to let go of them. */
interface Target {
  readonly description: string;
  readonly store: DynamoDbStore;
  readonly digests: DynamoDbDigestStore;
  readonly secrets: Secrets;
  readonly authorizerCache: AuthorizerCache;
  /** Where accounts' usage-plan keys live; undefined on AWS without --rest-api-id and --stage. */
  readonly usagePlans: UsagePlans | undefined;
  /** Set when cached decisions cannot be dropped from here: says what still holds them. */
  readonly cacheWarning?: string;
  readonly local: boolean;
  close(): Promise<void>;
}

function required(values: Values, name: 'name' | 'owner-name' | 'owner-email' | 'user' | 'key-name'): string {
  const value = values[name];
  if (value === undefined || value.trim() === '') throw new UsageError(`--${name} is required`);
  return value;
}

/** Tells a running `npm start` to drop cached authorizer decisions and reload the peppers. */
class RunningServerCache implements AuthorizerCache {
  readonly #runtime: RuntimeInfo;

  constructor(runtime: RuntimeInfo) {
    this.#runtime = runtime;
  }

  /** Where the server listens: an address of this machine, or loopback when it listens on all of them. */
  get url(): string {
    const host = this.#runtime.host === '0.0.0.0' || this.#runtime.host === '::' ? '127.0.0.1' : this.#runtime.host;
    return `http://${host.includes(':') ? `[${host}]` : host}:${this.#runtime.port}${LOCAL_REFRESH_PATH}`;
  }

  async flush(): Promise<void> {
    let response: Response;
    try {
      response = await fetch(this.url, { method: 'POST', headers: { [LOCAL_TOKEN_HEADER]: this.#runtime.controlToken } });
    } catch (error) {
      throw new Error(`the running local server does not answer at ${this.url}`, { cause: error });
    }
    if (response.status !== 204) throw new Error(`the running local server refused to refresh (HTTP ${response.status})`);
  }
}

const NO_CACHE: AuthorizerCache = { flush: () => Promise.resolve() };

async function localTarget(values: Values, paths: LocalPaths): Promise<Target> {
  const [inMemory] = values.endpoint === undefined && readRuntimeInfo(paths) === undefined ? readMemoryRuntimes(paths) : [];
  if (inMemory !== undefined) {
    throw new UsageError(
      `\`npm start -- --memory\` runs (pid ${inMemory.pid}, port ${inMemory.port}) and keeps its data in its own memory, ` +
        `out of this command's reach; nothing was changed. Stop it and run \`npm start\` without --memory to keep data ` +
        `in ${paths.root} that this command can change, or make accounts through its API.`,
    );
  }
  const secrets = LocalSecrets.fromFile(paths.masterKey);
  if (values.endpoint !== undefined) {
    // The data folder's access key id opens the database `npm start` keeps there.
    const { raw, documentClient } = localDynamoDbClients(values.endpoint, readDataFolderAccessKey(paths));
    const tableName = values.table ?? LOCAL_TABLE_NAME;
    await createTable(raw, tableName);
    return {
      description: `table ${tableName} at ${values.endpoint}`,
      store: new DynamoDbStore(documentClient, tableName),
      digests: new DynamoDbDigestStore(documentClient, tableName),
      secrets,
      authorizerCache: NO_CACHE,
      usagePlans: new LocalUsagePlans(),
      local: true,
      close: () => {
        raw.destroy();
        return Promise.resolve();
      },
    };
  }
  const running = readRuntimeInfo(paths);
  if (running !== undefined) {
    const cache = new RunningServerCache(running);
    // Reach the server before changing anything: a change it cannot be told about would keep
    // its cached decisions (and its peppers) stale while the command reported success.
    try {
      await cache.flush();
    } catch (error) {
      throw new UsageError(
        `the running local runtime (pid ${running.pid}) cannot be told about changes (${error instanceof Error ? error.message : String(error)}); nothing was changed`,
      );
    }
    const accessKeyId = readDataFolderAccessKey(paths);
    if (accessKeyId === undefined) {
      throw new UsageError(`the running local runtime (pid ${running.pid}) is of an older version; restart it, then run this again. Nothing was changed`);
    }
    const { raw, documentClient } = localDynamoDbClients(running.dynamodbEndpoint, accessKeyId);
    return {
      description: `the running local runtime (pid ${running.pid}, port ${running.port})`,
      store: new DynamoDbStore(documentClient, running.tableName),
      digests: new DynamoDbDigestStore(documentClient, running.tableName),
      secrets,
      authorizerCache: cache,
      usagePlans: new LocalUsagePlans(),
      local: true,
      close: () => {
        raw.destroy();
        return Promise.resolve();
      },
    };
  }
  mkdirSync(paths.dynamodb, { recursive: true, mode: 0o700 });
  const engine = await startDynamoDbLocal({ dbPath: paths.dynamodb, accessKeyId: dataFolderAccessKey(paths) });
  const { raw, documentClient } = localDynamoDbClients(engine.endpoint, engine.accessKeyId);
  try {
    await createTable(raw, LOCAL_TABLE_NAME);
  } catch (error) {
    raw.destroy();
    await engine.stop();
    throw error;
  }
  return {
    description: `local data in ${paths.dynamodb}`,
    store: new DynamoDbStore(documentClient, LOCAL_TABLE_NAME),
    digests: new DynamoDbDigestStore(documentClient, LOCAL_TABLE_NAME),
    secrets,
    // No server runs, so no decision is cached anywhere.
    authorizerCache: NO_CACHE,
    usagePlans: new LocalUsagePlans(),
    local: true,
    close: async () => {
      raw.destroy();
      await engine.stop();
    },
  };
}

function awsTarget(values: Values): Target {
  const { table, region } = values;
  const keyId = values['kms-key-id'];
  if (table === undefined || region === undefined || keyId === undefined) {
    throw new UsageError('the AWS target needs --table, --region and --kms-key-id together');
  }
  const raw = new DynamoDBClient({ region });
  const documentClient = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  const kms = new KMSClient({ region });
  const restApiId = values['rest-api-id'];
  const stage = values.stage;
  const apiGateway = restApiId !== undefined && stage !== undefined ? new APIGatewayClient({ region }) : undefined;
  return {
    description: `table ${table} in ${region}`,
    store: new DynamoDbStore(documentClient, table),
    digests: new DynamoDbDigestStore(documentClient, table),
    secrets: new KmsSecrets(kms, keyId),
    authorizerCache: apiGateway !== undefined && restApiId !== undefined && stage !== undefined ? new ApiGatewayAuthorizerCache(apiGateway, restApiId, stage) : NO_CACHE,
    ...(apiGateway === undefined
      ? { cacheWarning: 'no --rest-api-id and --stage given: decisions API Gateway has cached expire within the authorizer TTL' }
      : {}),
    usagePlans:
      apiGateway !== undefined && restApiId !== undefined && stage !== undefined
        ? new ApiGatewayUsagePlans(apiGateway, { restApiId, stageName: stage })
        : undefined,
    local: false,
    close: () => {
      raw.destroy();
      kms.destroy();
      apiGateway?.destroy();
      return Promise.resolve();
    },
  };
}

function requireUsagePlans(target: Target, command: string): UsagePlans {
  if (target.usagePlans === undefined) {
    throw new UsageError(`${command} on AWS needs --rest-api-id and --stage: accounts' usage-plan keys live on the stage's usage plans`);
  }
  return target.usagePlans;
}

/** `--default`, or `--rate` and `--burst` with an optional `--quota` and `--period` (checked by validatePlan). */
function planFromOptions(values: Values): Plan | null {
  const given = [values.rate, values.burst, values.quota, values.period].some((v) => v !== undefined);
  if (values.default) {
    if (given) throw new UsageError('--default takes no --rate, --burst, --quota or --period');
    return null;
  }
  if (values.rate === undefined || values.burst === undefined) throw new UsageError('set-plan needs --rate and --burst (or --default)');
  if ((values.quota === undefined) !== (values.period === undefined)) throw new UsageError('--quota and --period go together');
  const number = (raw: string): number => (raw.trim() === '' ? Number.NaN : Number(raw));
  return validatePlan({
    rateLimit: number(values.rate),
    burstLimit: number(values.burst),
    quota: values.quota === undefined || values.period === undefined ? null : { limit: number(values.quota), period: values.period.toUpperCase() },
  });
}

function print(json: boolean, value: Record<string, unknown>, lines: readonly string[]): void {
  if (json) console.log(JSON.stringify(value));
  else for (const line of lines) console.log(line);
}

async function execute(command: string, positionals: readonly string[], values: Values, target: Target): Promise<void> {
  const now = (): Date => new Date();
  if (target.local) await ensurePepper(target.store, target.secrets);
  switch (command) {
    case 'create-account': {
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
      return;
    }
    case 'create-key': {
      const accountId = positionals[0];
      if (accountId === undefined || positionals.length !== 1) throw new UsageError('create-key takes exactly one account id');
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
      return;
    }
    case 'enable-api':
    case 'disable-api': {
      const accountId = positionals[0];
      if (accountId === undefined || positionals.length !== 1) throw new UsageError(`${command} takes exactly one account id`);
      const enabled = command === 'enable-api';
      const logger = createLogger('latchkey-admin');
      const account = await setApiEnabled({ store: target.store, authorizerCache: target.authorizerCache, logger, now }, accountId, enabled, SYSTEM_ACTOR);
      const warning = enabled ? undefined : target.cacheWarning;
      print(values.json, { account, ...(warning === undefined ? {} : { warning }) }, [
        `The API of account ${account.id} (${account.name}) is now ${account.apiEnabled ? 'enabled' : 'disabled'}.`,
        ...(warning === undefined ? [] : [`Warning: ${warning}.`]),
      ]);
      return;
    }
    case 'rotate-pepper': {
      const version = await rotatePepper(target.store, target.secrets);
      // The running local server reloads its peppers with its cache. Lambda containers need no
      // signal: each reads the pepper list again within PEPPER_RING_MAX_AGE_SECONDS, and an
      // authorizer that meets a digest of a newer version reloads its ring at once.
      await target.authorizerCache.flush();
      print(values.json, { pepperVersion: version }, [
        `Pepper version ${version} added in ${target.description}; new digests use it (in every container within ` +
          `${PEPPER_RING_MAX_AGE_SECONDS} s), existing ones keep verifying and move to it when their key is next used.`,
      ]);
      return;
    }
    case 'pepper-usage': {
      const usage = await target.digests.pepperUsage();
      print(values.json, { usage }, [
        `Digests per pepper version in ${target.description}:`,
        ...usage.map((entry) => `  version ${entry.version}: ${entry.userKeys} user keys, ${entry.accountKeys} account keys`),
      ]);
      return;
    }
    case 'set-plan': {
      const accountId = positionals[0];
      if (accountId === undefined || positionals.length !== 1) throw new UsageError('set-plan takes exactly one account id');
      const plan = planFromOptions(values);
      const usagePlans = requireUsagePlans(target, command);
      const logger = createLogger('latchkey-admin');
      const applied = await setPlan({ store: target.store, usagePlans, authorizerCache: target.authorizerCache, logger, now }, accountId, plan, SYSTEM_ACTOR);
      const described =
        applied === null
          ? 'the default plan'
          : `${String(applied.rateLimit)} requests/s, burst ${String(applied.burstLimit)}${
              applied.quota === null ? ', no quota' : `, ${String(applied.quota.limit)} requests per ${applied.quota.period}`
            }`;
      print(values.json, { accountId, plan: applied }, [`Account ${accountId} is now on ${described}.`]);
      return;
    }
    case 'roll-account-key': {
      const accountId = positionals[0];
      if (accountId === undefined || positionals.length !== 1) throw new UsageError('roll-account-key takes exactly one account id');
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
      return;
    }
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

async function main(): Promise<number> {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: process.argv.slice(2), options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    console.error(USAGE);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) {
    (values.help ? console.log : console.error)(USAGE);
    return values.help ? 0 : 2;
  }
  if (!['create-account', 'create-key', 'enable-api', 'disable-api', 'rotate-pepper', 'set-plan', 'pepper-usage', 'roll-account-key'].includes(command)) {
    console.error(`unknown command '${command}'\n\n${USAGE}`);
    return 2;
  }

  let target: Target | undefined;
  try {
    const aws = values['kms-key-id'] !== undefined || values.region !== undefined;
    if (!aws && values.table !== undefined && values.endpoint === undefined) {
      throw new UsageError('--table names a table on --endpoint, or in AWS with --region and --kms-key-id');
    }
    target = aws ? awsTarget(values) : await localTarget(values, localPaths(values['data-dir']));
    await execute(command, rest, values, target);
    return 0;
  } catch (error) {
    const message =
      error instanceof UsageError ||
      error instanceof ValidationError ||
      error instanceof NotFoundError ||
      error instanceof ConflictError ||
      error instanceof RoleCannotHoldKeysError ||
      error instanceof JavaMissingError ||
      error instanceof LocalDataError
        ? error.message
        : error instanceof Error
          ? `${error.name}: ${error.message}`
          : String(error);
    if (values.json) console.log(JSON.stringify({ error: message }));
    console.error(`latchkey admin: ${message}`);
    return error instanceof UsageError ? 2 : 1;
  } finally {
    await target?.close();
  }
}

process.exitCode = await main();
