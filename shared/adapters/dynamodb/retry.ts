import { ConflictError } from '../../domain/errors.ts';
import { MAX_ATTEMPTS, RETRY_BUDGET_MS, backoffDelay, pause } from './transactions.ts';

/**
 * Runs `attempt` until it settles: `undefined` means it lost a race (re-read and try again
 * after a short random pause), `'continue'` means it made progress and must go on, anything
 * else is the result. Gives up with a ConflictError after MAX_ATTEMPTS lost races, or at a
 * lost race when the pause would end past RETRY_BUDGET_MS from the start.
 */
export async function retrying<T>(conflictMessage: string, attempt: () => Promise<T | 'continue' | undefined>): Promise<T> {
  const deadline = performance.now() + RETRY_BUDGET_MS;
  let lost = 0;
  for (;;) {
    const outcome = await attempt();
    if (outcome === 'continue') continue;
    if (outcome !== undefined) return outcome;
    lost += 1;
    const delay = backoffDelay(lost);
    if (lost >= MAX_ATTEMPTS || performance.now() + delay >= deadline) throw new ConflictError(conflictMessage);
    await pause(delay);
  }
}
