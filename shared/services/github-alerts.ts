import { createHash, verify } from 'node:crypto';
import type { GitHubKeySource } from '../ports/github-keys.ts';
import { type LeakReportOptions, reportLeakedKeys } from './leaked-keys.ts';

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

/** How many tokens' labels a container remembers, so that GitHub's repeated alerts are answered the same. */
const MAX_REMEMBERED_LABELS = 10_000;

export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
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

/**
 * Labels remembered per token hash. GitHub sends an alert again when it is unsure it arrived;
 * the first one deleted the user key, so the key alone no longer tells the second what it was.
 * Kept per container (a repeat landing on another container reads the key as gone: the writes
 * still are not repeated, only its label may then read false_positive).
 */
export class GitHubAlertLabels {
  readonly #labels = new Map<string, GitHubAlertLabel>();

  get(hash: string): GitHubAlertLabel | undefined {
    return this.#labels.get(hash);
  }

  remember(hash: string, label: GitHubAlertLabel): void {
    // A true positive is never downgraded: a repeat after the deletion must answer as the first did.
    if (this.#labels.get(hash) === 'true_positive') return;
    this.#labels.delete(hash);
    this.#labels.set(hash, label);
    if (this.#labels.size > MAX_REMEMBERED_LABELS) {
      const oldest = this.#labels.keys().next();
      if (oldest.done !== true) this.#labels.delete(oldest.value);
    }
  }
}

/**
 * Handles a verified alert's tokens as a leak report, and labels each: `true_positive` for a
 * Latchkey key that was live (now or at an earlier alert this container answered), otherwise
 * `false_positive`. No hold-back as on the public route: the labels say what the timing would.
 */
export async function handleGitHubAlerts(
  deps: ReportDeps,
  labels: GitHubAlertLabels,
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
  return alerts.map((alert) => {
    const hash = tokenHash(alert.token);
    if (live.has(alert.token)) labels.remember(hash, 'true_positive');
    const label = labels.get(hash) ?? 'false_positive';
    return { token_hash: hash, token_type: alert.type, label };
  });
}
