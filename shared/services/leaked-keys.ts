import { type Actor, auditEvent } from '../audit.ts';
import { NotFoundError } from '../domain/errors.ts';
import { parseAccountKey, parseUserKey } from '../domain/key-format.ts';
import type { PepperRing } from '../domain/hashing.ts';
import type { ApiDeps } from '../deps.ts';
import type { AuthorizationSecret, SecretRef } from '../ports.ts';
import { withAuthorizerCacheFlush } from './revocation.ts';

/**
 * Leak reports (`POST /v1/leaked-keys`): anyone who finds a key where it should not be (a
 * secret scanner, a stranger) can report it without holding any key. The answer never says
 * whether a key was valid, so the route is no oracle:
 * - every report gets the same answer, and the work is the same for valid and invalid keys
 *   up to the writes a valid one causes; the answer is held back until a fixed time after the
 *   request started, so that those writes do not show in the timing either;
 * - the work per report is bounded: at most 100 strings, malformed ones cost nothing (the
 *   format and checksum are checked without I/O), the rest one batched read.
 * What a valid key causes:
 * - a user key's current secret: the key is deleted at once (and the authorizer cache flushed);
 * - a user key's previous secret, in its grace period after a roll: that grace ends at once;
 * - the account key: flagged on the account (`accountKeyLeakReportedAt`) for its owners to
 *   roll; deleting it would lock every user of the account out;
 * - the account key's previous value, in its grace period: that grace ends at once.
 * Each is audited on the key's account, naming the key by id and never the key itself.
 */

/** The answer to a leak report is held back until this long after the request started. */
export const LEAK_REPORT_ANSWER_DELAY_MS = 300;

export interface LeakReportOptions {
  /** @default LEAK_REPORT_ANSWER_DELAY_MS */
  readonly answerDelayMs?: number;
  /** @default performance.now */
  readonly clock?: () => number;
}

type Match = 'current' | 'previous' | 'none';

function match(ring: PepperRing, value: string, hash: Uint8Array, pepperVersion: number, previous: AuthorizationSecret | undefined, now: number): Match {
  const current = ring.verify(value, hash, pepperVersion);
  const old = previous !== undefined && ring.verify(value, previous.hash, previous.pepperVersion);
  if (current) return 'current';
  return old && now < previous.expiresAt ? 'previous' : 'none';
}

export async function reportLeakedKeys(
  deps: Pick<ApiDeps, 'store' | 'peppers' | 'now' | 'authorizerCache' | 'logger'>,
  keys: readonly string[],
  sourceIp: string,
  options: LeakReportOptions = {},
): Promise<void> {
  const clock = options.clock ?? (() => performance.now());
  const answerAt = clock() + (options.answerDelayMs ?? LEAK_REPORT_ANSWER_DELAY_MS);
  try {
    await handleReport(deps, keys, sourceIp);
  } finally {
    const wait = answerAt - clock();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

async function handleReport(
  deps: Pick<ApiDeps, 'store' | 'peppers' | 'now' | 'authorizerCache' | 'logger'>,
  keys: readonly string[],
  sourceIp: string,
): Promise<void> {
  const accountKeys = new Map<string, string>();
  const userKeys = new Map<string, { accountId: string; keyId: string }>();
  for (const value of new Set(keys)) {
    const account = parseAccountKey(value);
    if (account.ok) accountKeys.set(value, account.key.accountId);
    const user = parseUserKey(value);
    if (user.ok) userKeys.set(value, { accountId: user.key.accountId, keyId: user.key.keyId });
  }
  const refs: SecretRef[] = [...accountKeys.values()].map((accountId) => ({ accountId }));
  for (const ref of userKeys.values()) refs.push(ref);
  if (refs.length === 0) return;

  const found = await deps.store.loadSecrets(refs);
  const versions = [...found.accounts.values()].map((a) => a.accountKeyPepperVersion);
  for (const key of found.keys.values()) versions.push(key.pepperVersion);
  const ring = await deps.peppers(Math.max(0, ...versions));
  const now = deps.now();
  const at = now.toISOString();
  // The reporter is no principal: only the address the report came from is recorded.
  const reporter: Actor = { userId: null, keyId: null, sourceIp };
  const writes: (() => Promise<unknown>)[] = [];

  for (const [value, accountId] of accountKeys) {
    const account = found.accounts.get(accountId);
    if (account === undefined) continue;
    const m = match(ring, value, account.accountKeyHash, account.accountKeyPepperVersion, account.previousAccountKey, now.getTime());
    if (m === 'current') {
      const event = auditEvent(accountId, reporter, 'account-key.leak-reported', `account/${accountId}`, now);
      writes.push(() => deps.store.flagAccountKeyLeak(accountId, account.accountKeyHash, at, event));
    } else if (m === 'previous' && account.previousAccountKey !== undefined) {
      const event = auditEvent(accountId, reporter, 'account-key.previous-leak-reported', `account/${accountId}`, now);
      const hash = account.previousAccountKey.hash;
      writes.push(() => deps.store.endPreviousAccountKey(accountId, hash, event));
    }
  }
  for (const [value, { accountId, keyId }] of userKeys) {
    const key = found.keys.get(`${accountId}/${keyId}`);
    if (key === undefined || (key.expiresAt !== undefined && now.getTime() >= key.expiresAt)) continue;
    const m = match(ring, value, key.secretHash, key.pepperVersion, key.previousSecret, now.getTime());
    const target = `api-key/${keyId}`;
    if (m === 'current') {
      const event = auditEvent(accountId, reporter, 'api-key.leak-reported', target, now);
      writes.push(() => deleteIfPresent(() => deps.store.deleteKey(accountId, keyId, event)));
    } else if (m === 'previous' && key.previousSecret !== undefined) {
      const event = auditEvent(accountId, reporter, 'api-key.previous-secret-leak-reported', target, now);
      const hash = key.previousSecret.hash;
      writes.push(() => deps.store.endPreviousSecret(accountId, keyId, hash, event));
    }
  }
  if (writes.length === 0) return;
  // One flush for the whole report, after every narrowing write.
  await withAuthorizerCacheFlush(deps, async () => {
    for (const write of writes) await write();
  });
}

/** A key deleted meanwhile (by its owner, or by another report) is already what the report asks for. */
async function deleteIfPresent(write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
}
