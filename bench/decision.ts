import { randomBytes } from 'node:crypto';
import { createAuthorizerHandler } from '#functions/authorizer.ts';
import { createLogger } from '#functions/commons/logger.ts';
import { LocalSecrets } from '#local/storage/local-secrets.ts';
import { keyDigest } from '#shared/domain/hashing.ts';
import { createPepperProvider, ensurePepper } from '#shared/authorization/peppers.ts';
import { MemoryCredentialStore, MemoryPepperStore } from './memory-credential-store.ts';
import type { PepperRing } from '#shared/domain/hashing.ts';
import { authorizerEvent, makeCredentials, makeKey, withStdoutDiscarded } from './fixtures.ts';
import type { Figure } from './report.ts';
import { measureAsync, measureSync, median, ratio, type LatencySummary } from './stats.ts';
import { buildPermissionPolicy } from '#shared/authorization/permission-policy.ts';
import { buildRoutePolicy } from '#shared/authorization/route-policy.ts';
import { resolveDownstreamRoutes } from '#shared/http/team-routes.ts';
import { realisticRoutes } from '#test/support/route-sets.ts';

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

  // A key in its grace period: the request presents the previous account key and the previous
  // user secret, so the decision compares each against both stored digests.
  const inGrace = makeCredentials(ring);
  const newAccountKey = makeCredentials(ring, { accountId: inGrace.account.id }).accountKey;
  const newUserKey = makeKey(ring, inGrace.account.id, { keyId: inGrace.key.id }).userKey;
  const graceEnd = new Date(Date.now() + 86_400_000).toISOString();
  store.putAccount({
    ...inGrace.account,
    ...withDigest(ring, newAccountKey, 'account'),
    previousAccountKey: { hash: inGrace.account.accountKeyHash, pepperVersion: inGrace.account.accountKeyPepperVersion, expiresAt: graceEnd },
  });
  store.putKey({
    ...inGrace.key,
    ...withDigest(ring, newUserKey, 'key'),
    previousSecret: { hash: inGrace.key.secretHash, pepperVersion: inGrace.key.pepperVersion, expiresAt: graceEnd },
  });
  const graceEvent = authorizerEvent(inGrace.accountKey, inGrace.userKey);
  const grace = await withStdoutDiscarded(async () => {
    const first = await handler(graceEvent);
    if (first.policyDocument.Statement[0]?.Effect !== 'Allow') throw new Error('the benchmark keys in their grace were not allowed');
    return measureAsync(() => handler(graceEvent), AUTHORIZATIONS, 2_000);
  });

  // Restricted keys (DESIGN 14) behind 300 team routes: the same handler for an unrestricted key
  // and a key restricted to half the permissions, so the ratio is what the restriction costs.
  const teamRoutes = resolveDownstreamRoutes(realisticRoutes(300));
  const routePolicy = buildRoutePolicy(teamRoutes);
  const permissionPolicy = buildPermissionPolicy(teamRoutes, routePolicy);
  const teamHandler = createAuthorizerHandler({ credentials: store, peppers, logger: createLogger('latchkey-authorizer'), routePolicy, permissionPolicy });
  const held = Object.keys(permissionPolicy.owner.grants).filter((_name, index) => index % 2 === 0);
  const restrictedCredentials = makeCredentials(ring);
  store.putAccount(restrictedCredentials.account);
  store.putKey({ ...restrictedCredentials.key, permissions: held });
  const restrictedEvent = authorizerEvent(restrictedCredentials.accountKey, restrictedCredentials.userKey);
  const [unrestrictedTeam, restricted] = await withStdoutDiscarded(async () => {
    const first = await teamHandler(restrictedEvent);
    if (first.context?.permissions !== held.join(',')) throw new Error('the benchmark key was not restricted');
    // Interleaved in rounds, so that neither gets the quieter half of the run.
    const plain: number[] = [];
    const narrowed: number[] = [];
    for (let round = 0; round < 10; round += 1) {
      plain.push((await measureAsync(() => teamHandler(event), AUTHORIZATIONS / 10, 200)).medianUs);
      narrowed.push((await measureAsync(() => teamHandler(restrictedEvent), AUTHORIZATIONS / 10, 200)).medianUs);
    }
    return [median(plain), median(narrowed)] as const;
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
      { group: GROUP, name: 'authorization, keys in their grace period, median', value: grace.medianUs, unit: 'µs', method: `${method}; previous account key and previous user secret presented, so each is compared with two digests` },
      { group: GROUP, name: 'authorization, keys in their grace period, p99', value: grace.p99Us, unit: 'µs', method: 'same loop' },
      { group: GROUP, name: 'grace period / plain key (median; goal at most 1.2x)', value: ratio(grace.medianUs, authorizer.medianUs), unit: 'x', method: 'ratio of the two authorization medians, same run' },
      {
        group: GROUP,
        name: 'authorization behind 300 team routes, unrestricted key, median',
        value: unrestrictedTeam,
        unit: 'µs',
        method: `${method}; route and permission policies of 300 realistic team routes; median of 10 interleaved rounds of ${(AUTHORIZATIONS / 10).toLocaleString('en-US')}`,
      },
      {
        group: GROUP,
        name: 'authorization behind 300 team routes, restricted key, median',
        value: restricted,
        unit: 'µs',
        method: `same handler and rounds; the key restricted to ${String(held.length)} of the ${String(Object.keys(permissionPolicy.owner.grants).length)} permissions (its policy built once, then cached per role, list and stage)`,
      },
      { group: GROUP, name: 'restricted / unrestricted key (median; goal at most 1.2x)', value: ratio(restricted, unrestrictedTeam), unit: 'x', method: 'ratio of the two medians above, same run' },
    ],
    details: { authorizer, twoDigests },
  };
}

/** A record's digest fields for `key`, as the account or the key item names them. */
function withDigest(
  ring: PepperRing,
  key: string,
  kind: 'account' | 'key',
): { accountKeyHash: Buffer; accountKeyPepperVersion: number } | { secretHash: Buffer; pepperVersion: number } {
  const digest = ring.digest(key);
  return kind === 'account'
    ? { accountKeyHash: digest.hash, accountKeyPepperVersion: digest.pepperVersion }
    : { secretHash: digest.hash, pepperVersion: digest.pepperVersion };
}
