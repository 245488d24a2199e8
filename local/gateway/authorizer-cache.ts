import { createHash } from 'node:crypto';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { VALID_UNTIL_CONTEXT } from '#shared/authorization/decision.ts';
import type { AuthorizerCache } from '#shared/ports/authorizer-cache.ts';

/** API Gateway lowers an authorizer's TTL of more than an hour to an hour. */
const MAX_AUTHORIZER_TTL_SECONDS = 3600;
const MAX_CACHED_POLICIES = 10_000;

/** An authorizer result as API Gateway keeps it: context values already strings. */
export interface CachedPolicy {
  readonly principalId: string;
  readonly policyDocument: APIGatewayAuthorizerResult['policyDocument'];
  readonly context: Readonly<Record<string, string>>;
}

/**
 * The authorizer result cache of a stage. Keyed like the deployed authorizer's identity
 * sources (both key headers and the source address), so a policy cached for one address is
 * never reused for another. Only successful authorizer results are cached, as API Gateway
 * does: a 401 or a fault always reaches the authorizer again next time.
 */
export class LocalAuthorizerCache implements AuthorizerCache {
  readonly ttlSeconds: number;
  readonly #entries = new Map<string, { readonly policy: CachedPolicy; readonly expiresAt: number }>();
  readonly #now: () => number;
  #generation = 0;

  /** @param ttlSeconds 0 turns caching off; at most 3600, like API Gateway. */
  constructor(ttlSeconds: number, now: () => number = Date.now) {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 0 || ttlSeconds > MAX_AUTHORIZER_TTL_SECONDS) {
      throw new Error(`the authorizer cache TTL must be a whole number of seconds from 0 to ${MAX_AUTHORIZER_TTL_SECONDS}`);
    }
    this.ttlSeconds = ttlSeconds;
    this.#now = now;
  }

  /** Changes on every flush; a result obtained before a flush must not be stored after it. */
  get generation(): number {
    return this.#generation;
  }

  get size(): number {
    return this.#entries.size;
  }

  static key(accountKey: readonly string[], userKey: readonly string[], sourceIp: string): string {
    // Hashed so the cache holds no usable secret; JSON keeps the three parts unambiguous.
    return createHash('sha256').update(JSON.stringify([accountKey, userKey, sourceIp])).digest('base64url');
  }

  get(key: string): CachedPolicy | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.policy;
  }

  /**
   * Stores a policy unless caching is off or the cache was flushed since `generation` was
   * read: an authorizer call that raced a revocation must not put the old decision back.
   */
  put(key: string, policy: CachedPolicy, generation: number): void {
    if (this.ttlSeconds === 0 || generation !== this.#generation) return;
    if (this.#entries.size >= MAX_CACHED_POLICIES && !this.#entries.has(key)) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.delete(key);
    // An Allow with a deadline (a key's expiry, a rolled secret's grace) is never served past it.
    const validUntil = policy.context[VALID_UNTIL_CONTEXT];
    const deadline = validUntil === undefined ? Number.POSITIVE_INFINITY : Date.parse(validUntil);
    if (Number.isNaN(deadline)) return;
    this.#entries.set(key, { policy, expiresAt: Math.min(this.#now() + this.ttlSeconds * 1000, deadline) });
  }

  flush(): Promise<void> {
    this.#generation += 1;
    this.#entries.clear();
    return Promise.resolve();
  }
}
