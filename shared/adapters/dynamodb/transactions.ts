import { type CancellationReason, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { assertPrincipalCurrent, principalOf, withPrincipalChecks, withoutPresentedSecrets } from './principal-check.ts';
import type { TransactItem } from './transact-item.ts';

/** DynamoDB's ceiling on the items of one TransactWriteItems. */
export const MAX_TRANSACTION_ITEMS = 100;

/** Attempts before a write that keeps losing races gives up with a ConflictError. */
export const MAX_ATTEMPTS = 25;

/**
 * How long a write that keeps losing races may go on trying, from its first attempt: well
 * inside API Gateway's 29 s, so that the caller gets its 409 instead of a timeout's 5xx
 * followed, unseen, by its write landing after all.
 */
export const RETRY_BUDGET_MS = 5_000;

/** Why a transaction was cancelled, by the index of the item in the request. */
export class Cancellation {
  readonly reasons: readonly CancellationReason[];

  constructor(reasons: readonly CancellationReason[]) {
    this.reasons = reasons;
  }

  /** Whether the condition on the item at `index` failed. */
  failed(index: number): boolean {
    return this.reasons[index]?.Code === 'ConditionalCheckFailed';
  }

  /** The item's state when its condition failed (requested with ReturnValuesOnConditionCheckFailure). */
  oldItem(index: number): CancellationReason['Item'] {
    return this.reasons[index]?.Item;
  }

  /** Only lost races with other writes (no condition failed): the same request may succeed next time. */
  get onlyConflicts(): boolean {
    return !this.reasons.some((reason) => reason.Code === 'ConditionalCheckFailed');
  }
}

/** A transaction cancelled for a reason other than a condition or a conflict (throttling, validation, …). */
export class TransactionFaultError extends Error {
  readonly reasonCodes: readonly string[];

  constructor(reasonCodes: readonly string[]) {
    super(`transaction cancelled: ${reasonCodes.join(', ')}`);
    this.name = 'TransactionFaultError';
    this.reasonCodes = reasonCodes;
  }
}

const EXPECTED_CODES = new Set([undefined, 'None', 'ConditionalCheckFailed', 'TransactionConflict']);

/**
 * Runs one TransactWriteItems. Returns undefined when it committed, or the cancellation when a
 * condition failed or another write got in the way; any other failure is a fault and is thrown.
 *
 * A transaction whose audit event names a key as its actor also checks, in the same
 * transaction, that the key still belongs to an owner of an account whose API is on and that
 * the secrets the request presented are still live (principal-check.ts); when that is what failed, it throws StalePrincipalError and nothing
 * was written.
 */
export async function transactWrite(
  client: DynamoDBDocumentClient,
  items: readonly TransactItem[],
): Promise<Cancellation | undefined> {
  const principal = principalOf(items);
  const stored = withoutPresentedSecrets(items);
  const sent = principal === undefined ? stored : withPrincipalChecks(stored, principal);
  if (sent.length > MAX_TRANSACTION_ITEMS) throw new Error(`a transaction may write at most ${MAX_TRANSACTION_ITEMS} items`);
  try {
    await client.send(new TransactWriteCommand({ TransactItems: sent }));
    return undefined;
  } catch (error) {
    if (error instanceof TransactionCanceledException) {
      const reasons = error.CancellationReasons ?? [];
      if (reasons.length > 0 && reasons.every((reason) => EXPECTED_CODES.has(reason.Code))) {
        const cancellation = new Cancellation(reasons);
        if (principal !== undefined && !cancellation.onlyConflicts) await assertPrincipalCurrent(client, principal);
        // The caller reads reasons by the indexes of the items it passed: checks appended
        // after them are left out.
        return new Cancellation(reasons.slice(0, items.length));
      }
      // The reasons carry the items asked for with ReturnValuesOnConditionCheckFailure (a key's
      // digest among them), and a fault gets logged: only the codes may travel on.
      throw new TransactionFaultError(reasons.map((reason) => reason.Code ?? 'None'));
    }
    throw error;
  }
}

/**
 * A random pause before attempt `attempt` (1 after the first loss), growing from 5-50 ms so
 * that many writers contending for one item spread out instead of colliding in lockstep.
 */
export function backoff(attempt: number): Promise<void> {
  return pause(backoffDelay(attempt));
}

/** The random pause in milliseconds that `backoff` waits. */
export function backoffDelay(attempt: number): number {
  const ceiling = Math.min(1000, 50 * 2 ** Math.max(0, attempt - 1));
  return 5 + Math.random() * (ceiling - 5);
}

export function pause(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
