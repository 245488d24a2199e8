import { PEPPER_RING_MAX_AGE_SECONDS, rotatePepper } from '#shared/authorization/peppers.ts';
import type { Command, CommandInput } from './command.ts';
import { print } from './options.ts';

/** Peppers: a new version, and how many stored digests still use each one. */

async function rotatePepperCommand({ values, target }: CommandInput): Promise<void> {
  const version = await rotatePepper(target.store, target.secrets);
  // The running local server reloads its peppers with its cache. Lambda containers need no
  // signal: each reads the pepper list again within PEPPER_RING_MAX_AGE_SECONDS, and an
  // authorizer that meets a digest of a newer version reloads its ring at once.
  await target.authorizerCache.flush();
  print(values.json, { pepperVersion: version }, [
    `Pepper version ${version} added in ${target.description}; new digests use it (in every container within ` +
      `${PEPPER_RING_MAX_AGE_SECONDS} s), existing ones keep verifying and move to it when their key is next used.`,
  ]);
}

async function pepperUsageCommand({ values, target }: CommandInput): Promise<void> {
  const usage = await target.digests.pepperUsage();
  print(values.json, { usage }, [
    `Digests per pepper version in ${target.description}:`,
    ...usage.map((entry) => `  version ${entry.version}: ${entry.userKeys} user keys, ${entry.accountKeys} account keys`),
  ]);
}

export const PEPPER_COMMANDS: Readonly<Record<string, Command>> = {
  'rotate-pepper': rotatePepperCommand,
  'pepper-usage': pepperUsageCommand,
};
