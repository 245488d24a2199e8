import { randomBytes } from 'node:crypto';
import { createAuthorizerHandler } from '#functions/authorizer.ts';
import { createLogger } from '#functions/commons/logger.ts';
import { LocalSecrets } from '#shared/adapters/local-secrets.ts';
import { keyDigest } from '#shared/domain/hashing.ts';
import { createPepperProvider, ensurePepper } from '#shared/peppers.ts';
import { MemoryCredentialStore, MemoryPepperStore } from './memory-credential-store.ts';
import { authorizerEvent, makeCredentials, withStdoutDiscarded } from './fixtures.ts';
import type { Figure } from './report.ts';
import { measureAsync, measureSync, ratio, type LatencySummary } from './stats.ts';

const GROUP = '1 decision';
const AUTHORIZATIONS = 20_000;
const BASELINE_ITERATIONS = 50_000;

export interface DecisionResult {
  readonly figures: readonly Figure[];
  readonly details: { readonly authorizer: LatencySummary; readonly twoDigests: LatencySummary };
}

/**
 * The authorizer handler in-process and warm, with the store behind its port held in memory:
 * what a decision costs beyond its one database round trip. The baseline is the least any
 * decision must do, the two HMAC-SHA256 digests (account key and user key).
 */
export async function benchDecision(): Promise<DecisionResult> {
  const pepperStore = new MemoryPepperStore();
  const secrets = new LocalSecrets(randomBytes(32));
  await ensurePepper(pepperStore, secrets);
  const peppers = createPepperProvider(pepperStore, secrets);
  const ring = await peppers();

  const credentials = makeCredentials(ring);
  const store = new MemoryCredentialStore();
  store.putAccount(credentials.account);
  store.putKey(credentials.key);
  const handler = createAuthorizerHandler({ credentials: store, peppers, logger: createLogger('latchkey-authorizer') });
  const event = authorizerEvent(credentials.accountKey, credentials.userKey);

  const authorizer = await withStdoutDiscarded(async () => {
    const first = await handler(event);
    if (first.policyDocument.Statement[0]?.Effect !== 'Allow') throw new Error('the benchmark credentials were not allowed');
    return measureAsync(() => handler(event), AUTHORIZATIONS, 2_000);
  });

  const pepper = ring.current.secret;
  const twoDigests = measureSync(
    () => {
      keyDigest(pepper, credentials.accountKey);
      keyDigest(pepper, credentials.userKey);
    },
    BASELINE_ITERATIONS,
    5_000,
  );

  const method = `handler called in-process, warm (pepper ring cached), in-memory CredentialStore; ${AUTHORIZATIONS.toLocaleString('en-US')} sequential calls timed one by one with hrtime after 2,000 warm-up; log line built, not written`;
  const baselineMethod = `keyDigest (HMAC-SHA256) of the account key and of the user key, ${BASELINE_ITERATIONS.toLocaleString('en-US')} pairs timed one by one in the same run`;
  return {
    figures: [
      { group: GROUP, name: 'authorization, median', value: authorizer.medianUs, unit: 'µs', method },
      { group: GROUP, name: 'authorization, p99', value: authorizer.p99Us, unit: 'µs', method },
      { group: GROUP, name: 'authorizations per second (1 core)', value: authorizer.perSecond, unit: '/s', method: 'same loop: calls / wall time of the timed loop' },
      { group: GROUP, name: 'baseline: two HMAC-SHA256, median', value: twoDigests.medianUs, unit: 'µs', method: baselineMethod },
      { group: GROUP, name: 'baseline: two HMAC-SHA256, p99', value: twoDigests.p99Us, unit: 'µs', method: baselineMethod },
      { group: GROUP, name: 'authorization / two HMACs (median)', value: ratio(authorizer.medianUs, twoDigests.medianUs), unit: 'x', method: 'ratio of the two medians above' },
    ],
    details: { authorizer, twoDigests },
  };
}
