import '#local/process/sdk-environment.ts';
import { parseArgs } from 'node:util';
import { ConflictError, NotFoundError, PermissionNotGrantedError, RoleCannotHoldKeysError, ValidationError } from '#shared/domain/errors.ts';
import { ensurePepper } from '#shared/authorization/peppers.ts';
import { RouteDeclarationError } from '#shared/http/team-routes.ts';
import { JavaMissingError } from '#local/storage/dynamodb-local.ts';
import { LocalDataError, localPaths } from '#local/process/runtime-files.ts';
import { ACCOUNT_COMMANDS } from './accounts.ts';
import { DIRECTORY_COMMANDS } from './directory.ts';
import type { Command } from './command.ts';
import { KEY_COMMANDS } from './keys.ts';
import { OPTIONS, USAGE, UsageError, type Values } from './options.ts';
import { PEPPER_COMMANDS } from './peppers.ts';
import { PLAN_COMMANDS } from './plans.ts';
import { awsTarget, localTarget, type Target } from './target.ts';

/**
 * The admin CLI (`npm run admin -- <command>`, `npx latchkey admin <command>`): reads the command line, opens the target the
 * options name, runs the command, and turns what went wrong into a message and an exit code
 * (2 for a command line that cannot work, 1 for anything else). The commands live in one file
 * per group: accounts.ts, directory.ts, keys.ts, plans.ts, peppers.ts.
 */

const COMMANDS: ReadonlyMap<string, Command> = new Map(Object.entries({ ...ACCOUNT_COMMANDS, ...DIRECTORY_COMMANDS, ...KEY_COMMANDS, ...PLAN_COMMANDS, ...PEPPER_COMMANDS }));

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
  const run = COMMANDS.get(command);
  if (run === undefined) {
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
    // A new local data folder has no pepper yet; on AWS the stack made the first one at deploy.
    if (target.local) await ensurePepper(target.store, target.secrets);
    await run({ command, positionals: rest, values, target, now: () => new Date() });
    return 0;
  } catch (error) {
    const message =
      error instanceof UsageError ||
      error instanceof ValidationError ||
      error instanceof NotFoundError ||
      error instanceof ConflictError ||
      error instanceof RoleCannotHoldKeysError ||
      error instanceof PermissionNotGrantedError ||
      error instanceof RouteDeclarationError ||
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
