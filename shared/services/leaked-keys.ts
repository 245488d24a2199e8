import { createHash } from 'node:crypto';
import { type Actor, auditEvent } from '../domain/audit.ts';
import { parseAccountKey, parseUserKey } from '../domain/key-format.ts';
import { type PepperRing, digestsEqual } from '../domain/hashing.ts';
import type { ApiDeps } from '../ports/deps.ts';
import type { AuthorizationRecords, AuthorizationSecret } from '../ports/credentials.ts';
import type { KeyLifecycleStore, LeakRecord, SecretRef } from '../ports/key-lifecycle-store.ts';
import { flushShortcut } from './revocation.ts';

/**
 * Leak reports (`POST /v1/leaked-keys`): anyone who finds a key where it should not be (a
 * secret scanner, a stranger) can report it without holding any key. The answer never says
 * whether a key was valid, so the route is no oracle:
 * - every report gets the same answer, and the work is the same for valid and invalid keys
 *   up to the writes a valid one causes; the answer is held back until a fixed time after the
 *   request started, so that those writes do not show in the timing either;
 * - the work per report is bounded: at most 100 strings, malformed ones cost nothing (the
 *   format and checksum are checked without I/O), the rest one batched read (and a few more
 *   reads only for a valid key whose write lost a race).
 * What a valid key causes:
 * - a user key's current secret: the key is deleted at once (and the authorizer cache flushed),
 *   but only while that secret is still its current one: a roll since keeps the key;
 * - a user key's previous secret, in its grace period after a roll: that grace ends at once;
 * - the account key: flagged on the account (`accountKeyLeakReportedAt`) for its owners to
 *   roll; deleting it would lock every user of the account out. Flagged once per key value:
 *   a repeated report writes nothing, and the flag flushes nothing (it takes no access away),
 *   so that anyone holding an account key cannot turn every tenant's authorizer cache off;
 * - the account key's previous value, in its grace period: that grace ends at once.
 * Each is audited on the key's account, naming the key by id and never the key itself, and
 * leaves, in the same transaction, a leak record: the value's SHA-256 (never the value) under
 * the key's account, kept LEAK_RECORD_DAYS, so that a later report of the same value can tell it
 * was a live key after the key is gone (github-alerts.ts labels GitHub's repeated alerts by it,
 * whichever container answers them). Only a write that was made leaves one: a repeated report
 * writes nothing, not even the record.
 */

/** The answer to a leak report is held back until this long after the request started. */
export const LEAK_REPORT_ANSWER_DELAY_MS = 300;

/** How long a leak record is kept (DynamoDB's TTL removes it some time after): GitHub repeats an alert within hours, not months. */
export const LEAK_RECORD_DAYS = 90;

/** The hex SHA-256 of a reported value: what a leak record, and GitHub's `token_hash`, name it by. */
export function leakedValueHash(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

export interface LeakReportOptions {
  /** @default LEAK_REPORT_ANSWER_DELAY_MS */
  readonly answerDelayMs?: number;
  /** @default performance.now */
  readonly clock?: () => number;
}

type LeakDeps = Pick<ApiDeps, 'peppers' | 'now' | 'authorizerCache' | 'logger'> & {
  readonly store: Pick<KeyLifecycleStore, 'loadSecrets' | 'flagAccountKeyLeak' | 'endPreviousAccountKey' | 'deleteKeyIfSecret' | 'endPreviousSecret'>;
};

/** How often one reported key is read and written again when a race (a roll, a digest upgrade) refused its write. */
const MAX_ATTEMPTS = 3;

/** What the store holds for one reported key: its current secret's digest and, after a roll, the previous one. */
interface Held {
  readonly hash: Uint8Array;
  readonly pepperVersion: number;
  readonly previous?: AuthorizationSecret | undefined;
}

/** Which of the held secrets the reported value is, and that secret's digest. */
interface Match {
  readonly secret: 'current' | 'previous';
  readonly hash: Uint8Array;
}

/** What a report does about each kind of match; true if it was done, false if a condition refused it. */
type Answers = Readonly<Record<Match['secret'], (hash: Uint8Array) => Promise<boolean>>>;

interface Report {
  readonly deps: LeakDeps;
  readonly now: Date;
  /** The reporter is no principal: only the address the report came from is recorded. */
  readonly reporter: Actor;
  /** A write that may take access away was tried (a fault then may have left it made) / was made. */
  narrowingTried: boolean;
  narrowingMade: boolean;
}

function match(ring: PepperRing, value: string, held: Held, now: number): Match | undefined {
  if (ring.verify(value, held.hash, held.pepperVersion)) return { secret: 'current', hash: held.hash };
  const { previous } = held;
  const live = previous !== undefined && now < previous.expiresAt && ring.verify(value, previous.hash, previous.pepperVersion);
  return live ? { secret: 'previous', hash: previous.hash } : undefined;
}

/**
 * Resolves to the reported values that were live keys: only GitHub's signed alerts
 * (github-alerts.ts) answer with it; the public route answers the same whatever they were.
 */
export async function reportLeakedKeys(
  deps: LeakDeps,
  keys: readonly string[],
  sourceIp: string,
  options: LeakReportOptions = {},
): Promise<ReadonlySet<string>> {
  const clock = options.clock ?? (() => performance.now());
  const answerAt = clock() + (options.answerDelayMs ?? LEAK_REPORT_ANSWER_DELAY_MS);
  try {
    return await handleReport(deps, keys, sourceIp);
  } finally {
    const wait = answerAt - clock();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/** The reported values that were live keys (a current secret, or a previous one in its grace period) when read. */
async function handleReport(deps: LeakDeps, keys: readonly string[], sourceIp: string): Promise<ReadonlySet<string>> {
  const live = new Set<string>();
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
  if (refs.length === 0) return live;

  const found = await deps.store.loadSecrets(refs);
  const versions = [...found.accounts.values()].map((a) => a.accountKeyPepperVersion);
  for (const key of found.keys.values()) versions.push(key.pepperVersion);
  // Loads the ring once for the whole report; a re-read after a race asks again, from the cache.
  await deps.peppers(Math.max(0, ...versions));
  const now = deps.now();
  const report: Report = { deps, now, reporter: { userId: null, keyId: null, sourceIp }, narrowingTried: false, narrowingMade: false };
  const until = new Date(now.getTime() + LEAK_RECORD_DAYS * 86_400_000).toISOString();
  const leakOf = (value: string): LeakRecord => ({ valueHash: leakedValueHash(value), until });

  try {
    for (const [value, accountId] of accountKeys) {
      const reread = async (): Promise<Held | undefined> => heldAccountKey((await deps.store.loadSecrets([{ accountId }])).accounts.get(accountId));
      if (await answer(report, value, heldAccountKey(found.accounts.get(accountId)), reread, accountKeyAnswers(report, accountId, leakOf(value)))) live.add(value);
    }
    for (const [value, { accountId, keyId }] of userKeys) {
      const id = `${accountId}/${keyId}`;
      const reread = async (): Promise<Held | undefined> => heldUserKey((await deps.store.loadSecrets([{ accountId, keyId }])).keys.get(id), report.now);
      if (await answer(report, value, heldUserKey(found.keys.get(id), report.now), reread, userKeyAnswers(report, accountId, keyId, leakOf(value)))) live.add(value);
    }
  } catch (error) {
    if (report.narrowingTried) await flushShortcut(deps);
    throw error;
  }
  // One flush for the whole report, after every narrowing write; none for a report that took no
  // access away (an account key flagged, a repeated report), so that reports never turn the cache off.
  if (report.narrowingMade) await flushShortcut(deps);
  return live;
}

/**
 * Acts on one reported key as the store holds it now. Each write is conditioned on the digest
 * the report matched, so a roll or a digest upgrade landing between the read and the write
 * refuses it; the key is then read and matched again: the secret reported may have become the
 * previous one (its grace ends), be gone (nothing to do), or sit under a newer pepper.
 * True if the value matched a live secret of the key at some read.
 */
async function answer(report: Report, value: string, first: Held | undefined, reread: () => Promise<Held | undefined>, answers: Answers): Promise<boolean> {
  let held = first;
  let refused: Match | undefined;
  let matchedOnce = false;
  for (let attempt = 1; held !== undefined; attempt += 1) {
    const ring = await report.deps.peppers(Math.max(held.pepperVersion, held.previous?.pepperVersion ?? 0));
    const matched = match(ring, value, held, report.now.getTime());
    if (matched === undefined) return matchedOnce;
    matchedOnce = true;
    // The same write refused again: no race, what it would write is there already (a flag set by an earlier report).
    if (refused?.secret === matched.secret && digestsEqual(refused.hash, matched.hash)) return true;
    if (await answers[matched.secret](matched.hash)) return true;
    if (attempt === MAX_ATTEMPTS) {
      report.deps.logger.warn('a leak report lost every race for one key; nothing more done for it', { attempts: attempt });
      return true;
    }
    refused = matched;
    held = await reread();
  }
  return matchedOnce;
}

function heldAccountKey(account: AuthorizationRecords['account']): Held | undefined {
  return account === undefined ? undefined : { hash: account.accountKeyHash, pepperVersion: account.accountKeyPepperVersion, previous: account.previousAccountKey };
}

/** An expired key is as good as gone: nothing to answer. */
function heldUserKey(key: AuthorizationRecords['key'], now: Date): Held | undefined {
  if (key === undefined || (key.expiresAt !== undefined && now.getTime() >= key.expiresAt)) return undefined;
  return { hash: key.secretHash, pepperVersion: key.pepperVersion, previous: key.previousSecret };
}

function accountKeyAnswers(report: Report, accountId: string, leak: LeakRecord): Answers {
  const { deps, reporter, now } = report;
  const target = `account/${accountId}`;
  return {
    // Flagged once per key value, and never narrowing: the key keeps working until its owners roll it.
    current: (hash) =>
      deps.store.flagAccountKeyLeak(accountId, hash, now.toISOString(), auditEvent(accountId, reporter, 'account-key.leak-reported', target, now), leak),
    previous: narrowing(report, (hash) =>
      deps.store.endPreviousAccountKey(accountId, hash, auditEvent(accountId, reporter, 'account-key.previous-leak-reported', target, now), leak),
    ),
  };
}

function userKeyAnswers(report: Report, accountId: string, keyId: string, leak: LeakRecord): Answers {
  const { deps, reporter, now } = report;
  const target = `api-key/${keyId}`;
  return {
    current: narrowing(report, (hash) => deps.store.deleteKeyIfSecret(accountId, keyId, hash, auditEvent(accountId, reporter, 'api-key.leak-reported', target, now), leak)),
    // Also where a reported current secret lands when its owner rolled it with a grace meanwhile:
    // the new secret, which the reporter never saw, stays; the reported one stops at once.
    previous: narrowing(report, (hash) =>
      deps.store.endPreviousSecret(accountId, keyId, hash, auditEvent(accountId, reporter, 'api-key.previous-secret-leak-reported', target, now), leak),
    ),
  };
}

/** A write that takes access away: the report flushes the authorizer cache once it made one. */
function narrowing(report: Report, write: (hash: Uint8Array) => Promise<boolean>): (hash: Uint8Array) => Promise<boolean> {
  return async (hash) => {
    report.narrowingTried = true;
    const made = await write(hash);
    if (made) report.narrowingMade = true;
    return made;
  };
}
