import { parseArgs } from 'node:util';
import { parseRouteSpec, type TeamRoute } from './checks/team-routes.ts';

/**
 * `latchkey smoke`'s command line. The revocation bound defaults to what docs/security.md
 * states for the stack at hand: on AWS stream delivery (typically under 1 s) + the mapping's
 * 1 s batching window + at most one 1 s flush window + API Gateway applying the flush, "a few
 * seconds", taken as 5 s; locally (a loopback URL, `npm start`) 0.1 s of stream polling + at
 * most one 1 s flush window.
 */
export const AWS_REVOCATION_BOUND_MS = 5000;
export const LOCAL_REVOCATION_BOUND_MS = 1100;
export const DEFAULT_TRIALS = 5;
export const DEFAULT_GRACE_SECONDS = 5;

export const USAGE = `Usage: latchkey smoke --url <url> [options]

Checks a running Latchkey stack end to end over HTTP, as a team runs it after \`cdk deploy\`
(or against \`npm start\`): the keys, the roles, a CIDR rule, a deleted key, rolls with and
without a grace, the leak route, and the revocation bound measured on that gateway. It makes a
viewer and a few keys with the owner's keys, and deletes every user and key it made when it
ends, also after a failure or Ctrl-C; the audit log keeps the trail.

The owner's keys come from the environment: LATCHKEY_ACCOUNT_KEY and LATCHKEY_USER_KEY.

Options:
  --url <url>                  the API's base URL, with the stage on AWS (the ApiUrl output)
  --route '<METHOD> <path> [roles]'
                               also check a team route: 401 without keys, 403 for a viewer (by
                               role, or by a CIDR rule where viewers may call it), 2xx for the
                               owner; roles as declared (e.g. owner,logs-viewer), else the
                               default rule (GET/HEAD: owner,viewer; others: owner). Repeatable.
                               Name routes whose owner call changes nothing (a GET).
  --trials <n>                 revocation trials (default ${DEFAULT_TRIALS})
  --revocation-bound <ms>      fail a trial slower than this (default ${AWS_REVOCATION_BOUND_MS} on AWS,
                               ${LOCAL_REVOCATION_BOUND_MS} for a loopback URL: the bounds docs/security.md states)
  --grace <seconds>            the grace of the roll check (default ${DEFAULT_GRACE_SECONDS})
  --json                       print the result as one JSON document (for CI)
  --help                       show this help

Exit status: 0 when every check passed, 1 when one failed, 2 for a usage error, 130 on Ctrl-C.
`;

export class SmokeUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SmokeUsageError';
  }
}

export interface SmokeOptions {
  readonly url: string;
  readonly routes: readonly TeamRoute[];
  readonly json: boolean;
  readonly trials: number;
  readonly revocationBoundMs: number;
  readonly graceSeconds: number;
  readonly accountKey: string;
  readonly userKey: string;
}

function wholeNumber(raw: string | undefined, name: string, min: number, max: number, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) throw new SmokeUsageError(`${name} must be a whole number from ${min} to ${max}`);
  return value;
}

/** Whether the URL names this machine: then it is a local runtime, and the local bound applies. */
export function isLoopback(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The options, or undefined when --help was asked for. */
export function parseSmokeOptions(argv: readonly string[], env: NodeJS.ProcessEnv): SmokeOptions | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        url: { type: 'string' },
        route: { type: 'string', multiple: true },
        trials: { type: 'string' },
        'revocation-bound': { type: 'string' },
        grace: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
    });
  } catch (error) {
    throw new SmokeUsageError(error instanceof Error ? error.message : String(error));
  }
  const { values } = parsed;
  if (values.help === true) return undefined;
  if (values.url === undefined) throw new SmokeUsageError('--url is required');
  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    throw new SmokeUsageError(`--url '${values.url}' is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SmokeUsageError('--url must be http or https');
  const accountKey = env.LATCHKEY_ACCOUNT_KEY ?? '';
  const userKey = env.LATCHKEY_USER_KEY ?? '';
  if (accountKey === '' || userKey === '') {
    throw new SmokeUsageError("the owner's keys are read from LATCHKEY_ACCOUNT_KEY and LATCHKEY_USER_KEY; set both");
  }
  let routes: TeamRoute[];
  try {
    routes = (values.route ?? []).map(parseRouteSpec);
  } catch (error) {
    throw new SmokeUsageError(error instanceof Error ? error.message : String(error));
  }
  const defaultBound = isLoopback(url) ? LOCAL_REVOCATION_BOUND_MS : AWS_REVOCATION_BOUND_MS;
  return {
    url: url.toString(),
    routes,
    json: values.json === true,
    trials: wholeNumber(values.trials, '--trials', 1, 50, DEFAULT_TRIALS),
    revocationBoundMs: wholeNumber(values['revocation-bound'], '--revocation-bound', 1, 600_000, defaultBound),
    graceSeconds: wholeNumber(values.grace, '--grace', 1, 600, DEFAULT_GRACE_SECONDS),
    accountKey,
    userKey,
  };
}
