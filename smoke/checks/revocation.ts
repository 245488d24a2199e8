import { describeAnswer, type RevocationFigures } from '../report.ts';
import { pollLimitMs, pollUntil, whoami, type SmokeContext } from './context.ts';

/**
 * The revocation bound as this stack shows it: a key is used (so that its Allow is cached, as a
 * client's would be), deleted, and asked with again until it is refused; the time from the
 * delete's 204 to the first 401 is one trial. On AWS that is the stream, the flusher's window and
 * API Gateway applying the flush; locally the handler's own flush.
 */

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : Math.round(((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2);
}

export async function checkRevocation(context: SmokeContext, viewerUserId: string): Promise<void> {
  const { report } = context;
  const refused = 'a deleted key is refused: 401';
  const bound = `revocation bound: every trial's first 401 within ${context.revocationBoundMs} ms of the delete`;
  const trialsMs: number[] = [];
  const problems: string[] = [];
  let unrevoked = 0;
  for (let trial = 1; trial <= context.revocationTrials; trial += 1) {
    const key = await context.ledger.key(viewerUserId);
    const keys = { accountKey: context.owner.accountKey, userKey: key.secret };
    const used = await whoami(context, keys);
    if (used.status !== 200) {
      problems.push(`trial ${trial}: the new key's whoami: expected 200, saw ${describeAnswer(used)}`);
      continue;
    }
    const deleted = await context.ledger.deleteKey(key.id);
    const since = performance.now();
    if (deleted.status !== 204) {
      problems.push(`trial ${trial}: the delete: expected 204, saw ${describeAnswer(deleted)}`);
      continue;
    }
    const outcome = await pollUntil(() => whoami(context, keys), (answer) => answer.status === 401, since, pollLimitMs(context));
    if (outcome.reached) {
      trialsMs.push(outcome.elapsedMs);
    } else {
      unrevoked += 1;
      problems.push(`trial ${trial}: still ${describeAnswer(outcome.last)} ${outcome.elapsedMs} ms after the delete`);
    }
  }
  const figures: RevocationFigures = {
    trialsMs,
    medianMs: median(trialsMs),
    maxMs: trialsMs.length === 0 ? undefined : Math.max(...trialsMs),
    boundMs: context.revocationBoundMs,
    unrevoked,
  };
  report.recordRevocation(figures);
  if (problems.length > 0) report.fail(refused, problems.join('; '));
  else report.pass(refused, `in each of ${trialsMs.length} trials`);
  if (figures.maxMs === undefined) report.fail(bound, 'no trial saw a 401');
  else if (problems.length > 0) report.fail(bound, `${problems.length} of ${context.revocationTrials} trials saw no 401 in time`);
  else if (figures.maxMs > context.revocationBoundMs) report.fail(bound, `max ${figures.maxMs} ms, median ${figures.medianMs ?? 0} ms`);
  else report.pass(bound, `max ${figures.maxMs} ms, median ${figures.medianMs ?? 0} ms`);
}
