import type { parseArgs } from 'node:util';
import { commandLine, programName } from '#local/process/invocation.ts';
import { LOCAL_TABLE_NAME } from '#local/process/runtime-files.ts';

/** The admin CLI's surface: its help, its options, and how a command reports. */

export const USAGE = `Usage: ${commandLine('admin')} <command> [options]

Commands:
  create-account --name <name> --owner-name <name> --owner-email <email> [--key-name <name>]
                 Creates an account (API enabled) with its first owner and one user key, and
                 prints the account key and that user key: the only time they are shown.
  list-accounts              Lists every account (a full read of the table): id, name, API switch.
  list-users <accountId>     Lists the account's users, each with their role and their keys (ids,
                             names, expiry): the ids create-key needs.
  create-key <accountId> --user <userId> --key-name <name> [--permissions <a:read,b:write> [--routes <file>]]
                 Issues a user key to a user of the account (owner, viewer or logs-viewer) and
                 prints it once: the way back in for an account whose owners hold no key.
                 --permissions restricts it to those permissions (each granted by the user's
                 role); a team route's need --routes, the team's routes module.
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
  local        uses the running \`${programName('start')}\` (found through .latchkey/runtime.json) and tells
               it to drop cached decisions (refusing, with nothing changed, if it cannot be
               reached); if none runs, starts DynamoDB Local on .latchkey/dynamodb for the
               duration of the command. A running \`${commandLine('start')} --memory\` keeps its data out
               of reach: the command then refuses and changes nothing.
  --data-dir <dir>      local data folder (default: $LATCHKEY_LOCAL_DIR, else .latchkey)
  --endpoint <url>      a DynamoDB-compatible endpoint instead (e.g. a DynamoDB Local you run),
                        with the local master key and the data folder's DynamoDB access key
                        id (if it has one yet); --table defaults to ${LOCAL_TABLE_NAME}
  AWS:         --table <name> --region <region> --kms-key-id <id>
               --rest-api-id <id> --stage <name>: the stage whose usage plans hold the accounts'
               usage-plan keys (needed by create-account and set-plan), and whose authorizer
               cache disable-api flushes; without them cached decisions expire within its TTL.
               --http-api-id <id> --stage <name> instead on the HTTP API flavor: no usage plans
               there (plans are recorded, not enforced); its authorizer cache is reset.
               Credentials come from the usual AWS SDK sources.

Options:
  --json       machine-readable output on stdout
  --help       this help`;

/** A command line that cannot work as given: the help applies, and the exit code is 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const OPTIONS = {
  name: { type: 'string' },
  'owner-name': { type: 'string' },
  'owner-email': { type: 'string' },
  'key-name': { type: 'string' },
  user: { type: 'string' },
  table: { type: 'string' },
  region: { type: 'string' },
  'kms-key-id': { type: 'string' },
  'rest-api-id': { type: 'string' },
  'http-api-id': { type: 'string' },
  stage: { type: 'string' },
  endpoint: { type: 'string' },
  'data-dir': { type: 'string' },
  rate: { type: 'string' },
  burst: { type: 'string' },
  quota: { type: 'string' },
  period: { type: 'string' },
  default: { type: 'boolean', default: false },
  grace: { type: 'string' },
  permissions: { type: 'string' },
  routes: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const;

export type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>['values'];

export function required(values: Values, name: 'name' | 'owner-name' | 'owner-email' | 'user' | 'key-name'): string {
  const value = values[name];
  if (value === undefined || value.trim() === '') throw new UsageError(`--${name} is required`);
  return value;
}

/** The one positional argument of a command that acts on an account. */
export function onlyAccountId(command: string, positionals: readonly string[]): string {
  const accountId = positionals[0];
  if (accountId === undefined || positionals.length !== 1) throw new UsageError(`${command} takes exactly one account id`);
  return accountId;
}

/** The result on stdout: one JSON object with --json, else the lines for a person. */
export function print(json: boolean, value: Record<string, unknown>, lines: readonly string[]): void {
  if (json) console.log(JSON.stringify(value));
  else for (const line of lines) console.log(line);
}
