import { verify } from 'node:crypto';
import { parseAccountKey, parseUserKey } from '../domain/key-format.ts';
import type { GitHubKeySource } from '../ports/github-keys.ts';
import type { KeyLifecycleStore, LeakRef } from '../ports/key-lifecycle-store.ts';
import { type LeakReportOptions, leakedValueHash, reportLeakedKeys } from './leaked-keys.ts';

/**
 * GitHub secret scanning alerts (`POST /v1/leaked-keys/github`): GitHub, as a secret scanning
 * partner, sends the Latchkey keys it found pushed to a public repository, signed with one of
 * its published ECDSA P-256 keys. A signed alert is handled as a leak report is (the same
 * deletions, flags and audit events), and answered with GitHub's feedback array: whether each
 * token was a live key. That answer reveals validity, which the public leak route never does;
 * it goes only to whoever holds GitHub's signing key, and an unsigned request is refused
 * before anything is read, so the route is still no oracle for anyone else.
 */

export interface GitHubAlert {
  readonly token: string;
  readonly type: string;
  readonly url?: string | undefined;
  readonly source?: string | undefined;
}

export type GitHubAlertLabel = 'true_positive' | 'false_positive';

export interface GitHubAlertFeedback {
  readonly token_hash: string;
  readonly token_type: string;
  readonly label: GitHubAlertLabel;
}

/** The secret types a deployment registers with GitHub, with the patterns of shared/domain/key-format.ts. */
export const GITHUB_SECRET_TYPES = { account: 'latchkey_account_key', user: 'latchkey_user_key' } as const;

/** A signature no key verifies, or none at all: the alert is refused and nothing is done. */
export class GitHubSignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GitHubSignatureError';
  }
}

/**
 * Throws GitHubSignatureError unless `signature` (base64 DER ECDSA over SHA-256) verifies the
 * raw body, byte for byte as sent, with the key GitHub publishes under `identifier`.
 */
export async function verifyGitHubSignature(keys: GitHubKeySource, rawBody: Buffer, identifier: string | undefined, signature: string | undefined): Promise<void> {
  if (identifier === undefined || identifier === '' || signature === undefined || signature === '') {
    throw new GitHubSignatureError('the alert is not signed: Github-Public-Key-Identifier and Github-Public-Key-Signature are required');
  }
  const pem = await keys.publicKey(identifier);
  if (pem === undefined) throw new GitHubSignatureError('the alert is signed with a key GitHub does not publish');
  let valid: boolean;
  try {
    valid = verify('sha256', rawBody, pem, Buffer.from(signature, 'base64'));
  } catch {
    valid = false;
  }
  if (!valid) throw new GitHubSignatureError('the alert signature does not verify');
}

type ReportDeps = Parameters<typeof reportLeakedKeys>[0];

export type GitHubAlertDeps = ReportDeps & { readonly store: ReportDeps['store'] & Pick<KeyLifecycleStore, 'leaksRecorded'> };

/**
 * Handles a verified alert's tokens as a leak report, and labels each: `true_positive` for a
 * Latchkey key that was live, now or at an earlier report of it, otherwise `false_positive`.
 * GitHub sends an alert again when it is unsure it arrived; the first one deleted the user key,
 * so the key alone no longer tells the repeat what it was: the leak record the first one's
 * write left (leaked-keys.ts) does, on the table, whichever container answers the repeat. Only
 * tokens that are not live now and carry a Latchkey key's format and checksum are looked up,
 * in one batched read. No hold-back as on the public route: the labels say what the timing would.
 */
export async function handleGitHubAlerts(
  deps: GitHubAlertDeps,
  alerts: readonly GitHubAlert[],
  sourceIp: string,
  options: LeakReportOptions = {},
): Promise<GitHubAlertFeedback[]> {
  const live = await reportLeakedKeys(
    deps,
    alerts.map((a) => a.token),
    sourceIp,
    { answerDelayMs: 0, ...options },
  );
  const asked: LeakRef[] = [];
  for (const { token } of alerts) {
    if (live.has(token)) continue;
    const accountId = latchkeyAccountOf(token);
    if (accountId !== undefined) asked.push({ accountId, valueHash: leakedValueHash(token) });
  }
  const recorded = asked.length === 0 ? new Set<string>() : await deps.store.leaksRecorded(asked, deps.now());
  return alerts.map((alert) => {
    const hash = leakedValueHash(alert.token);
    const label: GitHubAlertLabel = live.has(alert.token) || recorded.has(hash) ? 'true_positive' : 'false_positive';
    return { token_hash: hash, token_type: alert.type, label };
  });
}

/** The account of a token with a Latchkey key's format and checksum; undefined for anything else. */
function latchkeyAccountOf(token: string): string | undefined {
  const account = parseAccountKey(token);
  if (account.ok) return account.key.accountId;
  const user = parseUserKey(token);
  return user.ok ? user.key.accountId : undefined;
}
