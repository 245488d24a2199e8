import { stringField, type Keys } from '../http-client.ts';
import { describeAnswer } from '../report.ts';
import { pollLimitMs, pollUntil, sleep, whoami, type SmokeContext } from './context.ts';

/** A key's life after it is made: rolled with a grace and without, and reported as leaked. */

interface Roll {
  readonly secret: string;
  /** performance.now() when the roll's answer came. */
  readonly answeredAt: number;
}

async function roll(context: SmokeContext, keyId: string, gracePeriodSeconds: number, name: string): Promise<Roll | undefined> {
  const answer = await context.client.request(`/v1/api-keys/${encodeURIComponent(keyId)}/roll`, {
    method: 'POST',
    keys: context.owner,
    body: { gracePeriodSeconds },
  });
  const answeredAt = performance.now();
  const secret = stringField(answer, 'secret');
  context.report.keepSecret(secret);
  if (answer.status !== 200 || secret === undefined) {
    context.report.fail(name, `the roll: expected 200 with a secret, saw ${describeAnswer(answer)}`);
    return undefined;
  }
  return { secret, answeredAt };
}

/**
 * Rolls a viewer's key with a grace: the new secret and the old one both work, the old one stops
 * once the grace is over; then rolls it with no grace, which ends the previous secret (refused
 * within the revocation bound: on AWS an Allow cached for it lasts until the stage's cache is
 * flushed; locally the handler empties the cache at once).
 */
export async function checkRolls(context: SmokeContext, viewerUserId: string): Promise<void> {
  const { report } = context;
  const grace = context.graceSeconds;
  const withGrace = `a roll with a ${grace} s grace keeps the old secret working`;
  const graceEnds = 'the old secret stops when the grace ends: 401';
  const noGrace = 'a roll with no grace ends the old secret: 401';
  const key = await context.ledger.key(viewerUserId);
  const keysOf = (secret: string): Keys => ({ accountKey: context.owner.accountKey, userKey: secret });
  // The old secret's Allow is cached from here on, as a client that used it has it.
  const before = await whoami(context, keysOf(key.secret));
  if (before.status !== 200) {
    report.fail(withGrace, `the new key's whoami: expected 200, saw ${describeAnswer(before)}`);
    report.fail(graceEnds, 'not run');
    report.fail(noGrace, 'not run');
    return;
  }
  const graced = await roll(context, key.id, grace, withGrace);
  if (graced === undefined) {
    report.fail(graceEnds, 'not run');
    report.fail(noGrace, 'not run');
    return;
  }
  const [fresh, old] = [await whoami(context, keysOf(graced.secret)), await whoami(context, keysOf(key.secret))];
  if (fresh.status !== 200) report.fail(withGrace, `the new secret: expected 200, saw ${describeAnswer(fresh)}`);
  else if (old.status !== 200) report.fail(withGrace, `the old secret during the grace: expected 200, saw ${describeAnswer(old)}`);
  else report.pass(withGrace);

  // The stack set the grace's end at its own time of the roll, before its answer reached us.
  const graceEndsAt = graced.answeredAt + grace * 1000;
  await sleep(graceEndsAt - performance.now());
  const ended = await pollUntil(() => whoami(context, keysOf(key.secret)), (answer) => answer.status === 401, graceEndsAt, pollLimitMs(context));
  judgeRefusal(context, graceEnds, ended, 'after the grace ended');

  const ungraced = await roll(context, key.id, 0, noGrace);
  if (ungraced === undefined) return;
  const refused = await pollUntil(() => whoami(context, keysOf(graced.secret)), (answer) => answer.status === 401, ungraced.answeredAt, pollLimitMs(context));
  judgeRefusal(context, noGrace, refused, 'after the roll');
}

/** Passes a refusal seen within the revocation bound; fails one seen later, or never, naming the times. */
function judgeRefusal(
  context: SmokeContext,
  name: string,
  outcome: { readonly reached: boolean; readonly elapsedMs: number; readonly last: Parameters<typeof describeAnswer>[0] },
  after: string,
): void {
  if (!outcome.reached) context.report.fail(name, `still ${describeAnswer(outcome.last)} ${outcome.elapsedMs} ms ${after}`);
  else if (outcome.elapsedMs > context.revocationBoundMs) context.report.fail(name, `401 only ${outcome.elapsedMs} ms ${after} (bound ${context.revocationBoundMs} ms)`);
  else context.report.pass(name, `${outcome.elapsedMs} ms ${after}`);
}

/**
 * The leak route needs no keys and answers 202 to any well-formed report. The report names no
 * real key: a valid one would be deleted, and the answer must not tell either way.
 */
export async function checkLeakRoute(context: SmokeContext): Promise<void> {
  const answer = await context.client.request('/v1/leaked-keys', { method: 'POST', body: { keys: ['latchkey-smoke-not-a-key'] } });
  context.report.expectStatus('the leak route (POST /v1/leaked-keys, no keys): 202', answer, 202);
}
