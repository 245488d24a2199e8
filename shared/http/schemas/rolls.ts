import * as z from 'zod/mini';

/** A roll's grace period: at most a week, so that a replaced secret cannot stay alive indefinitely. */
export const MAX_GRACE_PERIOD_SECONDS = 604_800;

/** The body of both rolls, the account key's and a user key's. */
export const RollBody = z.strictObject({
  gracePeriodSeconds: z
    .int('must be a whole number')
    .check(
      z.gte(0, 'must be at least 0'),
      z.lte(MAX_GRACE_PERIOD_SECONDS, `must be at most ${MAX_GRACE_PERIOD_SECONDS} (a week)`),
      z.describe('How long the previous secret keeps working; 0 ends it at once'),
    ),
});
