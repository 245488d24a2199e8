import type { ThrottleLimits } from '#local/gateway/account-limiter.ts';
import { MAX_BURST_LIMIT, MAX_RATE_LIMIT, type Plan } from '#shared/domain/plan.ts';

/**
 * Limits far above anything a test sends: the limiter runs, but lets every request through, so
 * that a suite's answers are about what it tests. The limits themselves are tested with their
 * own figures (test/e2e/limits.test.ts, test/e2e/public-route-throttle.test.ts).
 */
export const UNREACHED_PLAN: Plan = { rateLimit: MAX_RATE_LIMIT, burstLimit: MAX_BURST_LIMIT, quota: null };

/** The same for the throttle of the routes that need no keys. */
export const UNREACHED_THROTTLE: ThrottleLimits = { rateLimit: MAX_RATE_LIMIT, burstLimit: MAX_BURST_LIMIT };
