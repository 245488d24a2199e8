import { SmokeHttpClient } from './http-client.ts';
import { InterruptedError, SmokeLedger } from './cleanup.ts';
import { SmokeUsageError, USAGE, parseSmokeOptions, type SmokeOptions } from './options.ts';
import { SmokeReport, closingLines } from './report.ts';
import { runChecks } from './run.ts';

/**
 * `latchkey smoke --url URL` (`npm run smoke -- --url URL` here): a deployed stack's checks over
 * HTTP, with the owner's keys from the environment. Whatever ends the run (the last check, a
 * failure, Ctrl-C), the users and keys it made are deleted before it exits.
 */

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
const EXIT_INTERRUPTED = 130;

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

async function smoke(options: SmokeOptions): Promise<void> {
  const client = new SmokeHttpClient(options.url);
  const report = new SmokeReport(client.baseUrl, options.json ? undefined : (line) => process.stdout.write(`${line}\n`));
  report.keepSecret(options.accountKey);
  report.keepSecret(options.userKey);
  const owner = { accountKey: options.accountKey, userKey: options.userKey };
  const ledger = new SmokeLedger(client, owner, (secret) => {
    report.keepSecret(secret);
  });

  let finishing: Promise<void> | undefined;
  const finish = (interrupted: boolean): Promise<void> =>
    (finishing ??= (async () => {
      const outcome = await ledger.cleanUp();
      const made = `${count(outcome.usersDeleted, 'user')} and ${count(outcome.keysDeleted, 'key')} deleted`;
      if (outcome.leftBehind.length === 0) report.pass('clean-up: every user and key made is deleted', made);
      else report.fail('clean-up: every user and key made is deleted', `${made}; left behind: ${outcome.leftBehind.join(', ')}`);
      const summary = report.summary(interrupted);
      if (options.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else process.stdout.write(`${interrupted ? 'interrupted: the checks did not all run\n' : ''}${closingLines(summary).join('\n')}\n`);
      process.exitCode = interrupted ? EXIT_INTERRUPTED : summary.failed === 0 ? 0 : EXIT_FAILED;
    })());

  process.once('SIGINT', () => {
    // A second Ctrl-C while cleaning up ends the run at once.
    process.once('SIGINT', () => process.exit(EXIT_INTERRUPTED));
    void finish(true).then(() => process.exit(EXIT_INTERRUPTED));
  });

  const context = {
    client,
    owner,
    ledger,
    report,
    revocationBoundMs: options.revocationBoundMs,
    revocationTrials: options.trials,
    graceSeconds: options.graceSeconds,
  };
  try {
    await runChecks(context, options.routes);
  } catch (error) {
    // Ctrl-C: the signal's handler cleans up and exits.
    if (error instanceof InterruptedError) return;
    report.fail('the run', `stopped by an unexpected error: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (ledger.closed) return;
  await finish(false);
}

let options: SmokeOptions | undefined;
try {
  options = parseSmokeOptions(process.argv.slice(2), process.env);
  if (options === undefined) process.stdout.write(USAGE);
} catch (error) {
  if (!(error instanceof SmokeUsageError)) throw error;
  process.stderr.write(`latchkey smoke: ${error.message}\n\n${USAGE}`);
  process.exitCode = EXIT_USAGE;
}
if (options !== undefined) await smoke(options);
