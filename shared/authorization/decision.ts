import type { AuthorizerDeps } from '../ports/deps.ts';
import { parseAccountKey, parseUserKey } from '../domain/key-format.ts';
import { type PepperRing, digestsEqual, keyDigest } from '../domain/hashing.ts';
import { isSourceAllowed } from '../domain/cidr.ts';
import { canHoldKeys } from '../domain/roles.ts';
import { effectivePermissions } from '../domain/permissions.ts';
import type { Plan } from '../domain/plan.ts';
import type { Principal } from '../domain/model.ts';
import { type PresentedSecrets, UNTAGGED_SECRET } from '../domain/secret-tags.ts';
import type { AuthorizationRecords, AuthorizationSecret } from '../ports/credentials.ts';

/**
 * The authorizer's decision, independent of API Gateway: which keys are valid, whose they are
 * and whether the caller's address may use them. Handlers (the Lambda authorizer, the local
 * runtime) turn the decision into a policy (policies.ts).
 */

export { ACCOUNT_KEY_HEADER, USER_KEY_HEADER } from '../http/backend-headers.ts';
export { SECRET_TAG_CONTEXT, VALID_UNTIL_CONTEXT } from './context-entries.ts';

/** Why a request was refused with 401; for logs only, never for the response (all 401s look alike). */
export type UnauthorizedReason =
  | 'account-key-missing'
  | 'account-key-malformed'
  | 'user-key-missing'
  | 'user-key-malformed'
  | 'account-mismatch'
  | 'unknown-account'
  | 'account-key-mismatch'
  | 'unknown-key'
  | 'user-key-mismatch'
  | 'api-disabled'
  | 'role-cannot-hold-keys'
  | 'key-expired'
  | 'grace-period-over';

/** What an Allow carries, whichever route set it opens. */
export interface AllowedKeys {
  readonly principal: Principal;
  /**
   * Which secrets these keys are: the writes made under this Allow check that both are still
   * live (shared/adapters/dynamodb/principal-check.ts), however long the Allow is cached.
   */
  readonly presentedSecrets: PresentedSecrets;
  /**
   * Epoch milliseconds after which these keys stop working (the key's expiry, or the end of
   * a rolled secret's grace period); undefined = no deadline. Travels with a cached Allow.
   */
  readonly validUntil?: number | undefined;
  /** The account's own plan (absent: the default) and its usage-plan key's value, from the same read. */
  readonly plan?: Plan | undefined;
  readonly usageIdentifierKey?: string | undefined;
}

export type AuthorizationDecision =
  | ({ readonly outcome: 'allow' } & AllowedKeys)
  | {
      readonly outcome: 'deny-unauthorized';
      readonly reason: UnauthorizedReason;
      /** The ids the request claimed, when its keys were well formed (not proof of anything). */
      readonly accountId?: string | undefined;
      readonly keyId?: string | undefined;
    }
  | { readonly outcome: 'deny-source-ip'; readonly principal: Principal }
  /** An owner's valid keys, from an allowed address, on a switch route of an account whose API is off (DESIGN 9). */
  | ({ readonly outcome: 'allow-api-switch' } & AllowedKeys);

/** What a request presents: header values (all of them, for each name) and the connection's address. */
export interface AuthorizationRequest {
  readonly accountKey: readonly string[];
  readonly userKey: readonly string[];
  readonly sourceIp: string;
  /** The request is for a route an owner may reach while the account's API is off (shared/authorization/api-switch.ts). */
  readonly apiSwitchRoute?: boolean;
}

export interface ParsedCredentials {
  readonly accountId: string;
  readonly keyId: string;
  readonly accountKey: string;
  readonly userKey: string;
}

export type CredentialsParseResult =
  | { readonly ok: true; readonly credentials: ParsedCredentials }
  | { readonly ok: false; readonly decision: AuthorizationDecision & { readonly outcome: 'deny-unauthorized' } };

/**
 * Every value a request carries for `name`, compared case-insensitively, from both the single-
 * and multi-value header maps. A header sent twice with different values is ambiguous: API
 * Gateway would keep one and the caller may have meant the other, so it is refused upstream.
 */
export function headerValues(
  headers: Readonly<Record<string, string | undefined>> | null | undefined,
  multiValueHeaders: Readonly<Record<string, readonly string[] | undefined>> | null | undefined,
  name: string,
): string[] {
  const wanted = name.toLowerCase();
  const values = new Set<string>();
  for (const [header, value] of Object.entries(headers ?? {})) {
    if (header.toLowerCase() === wanted && value !== undefined) values.add(value);
  }
  for (const [header, list] of Object.entries(multiValueHeaders ?? {})) {
    if (header.toLowerCase() === wanted) for (const value of list ?? []) values.add(value);
  }
  return [...values];
}

function unauthorized(
  reason: UnauthorizedReason,
  ids: { accountId?: string; keyId?: string } = {},
): AuthorizationDecision & { readonly outcome: 'deny-unauthorized' } {
  return { outcome: 'deny-unauthorized', reason, ...ids };
}

/**
 * Checks both keys' format and that they name the same account, with no I/O: a malformed,
 * truncated or foreign key costs no database read and no KMS call.
 */
export function parseCredentials(request: AuthorizationRequest): CredentialsParseResult {
  const [accountKeyValue, ...extraAccountKeys] = request.accountKey;
  if (accountKeyValue === undefined || accountKeyValue === '') return { ok: false, decision: unauthorized('account-key-missing') };
  if (extraAccountKeys.length > 0) return { ok: false, decision: unauthorized('account-key-malformed') };
  const [userKeyValue, ...extraUserKeys] = request.userKey;
  if (userKeyValue === undefined || userKeyValue === '') return { ok: false, decision: unauthorized('user-key-missing') };
  if (extraUserKeys.length > 0) return { ok: false, decision: unauthorized('user-key-malformed') };

  const accountKey = parseAccountKey(accountKeyValue);
  if (!accountKey.ok) return { ok: false, decision: unauthorized('account-key-malformed') };
  const userKey = parseUserKey(userKeyValue);
  if (!userKey.ok) return { ok: false, decision: unauthorized('user-key-malformed', { accountId: accountKey.key.accountId }) };
  const ids = { accountId: accountKey.key.accountId, keyId: userKey.key.keyId };
  if (userKey.key.accountId !== accountKey.key.accountId) return { ok: false, decision: unauthorized('account-mismatch', ids) };
  return {
    ok: true,
    credentials: { ...ids, accountKey: accountKey.key.value, userKey: userKey.key.value },
  };
}

/** Which of a key's digests a presented value matches, at `now`. */
type SecretMatch = 'current' | 'previous' | 'grace-period-over' | 'none';

function matchSecret(
  peppers: PepperRing,
  value: string,
  hash: Uint8Array,
  pepperVersion: number,
  previous: AuthorizationSecret | undefined,
  now: number,
): SecretMatch {
  // Both digests are compared every time there are two, so the timing does not tell which
  // one matched. Made with the same pepper (the usual case), they share one HMAC: a key in
  // its grace costs one more constant-time comparison, not another digest.
  const pepper = peppers.get(pepperVersion);
  const digest = pepper === undefined ? undefined : keyDigest(pepper, value);
  const current = digest !== undefined && digestsEqual(digest, hash);
  const old =
    previous !== undefined &&
    (previous.pepperVersion === pepperVersion
      ? digest !== undefined && digestsEqual(digest, previous.hash)
      : peppers.verify(value, previous.hash, previous.pepperVersion));
  if (current) return 'current';
  if (!old) return 'none';
  return now < previous.expiresAt ? 'previous' : 'grace-period-over';
}

function earliest(...deadlines: (number | undefined)[]): number | undefined {
  let result: number | undefined;
  for (const deadline of deadlines) if (deadline !== undefined && (result === undefined || deadline < result)) result = deadline;
  return result;
}

/**
 * The decision for well-formed credentials, given what the store holds, the container's
 * peppers and the time (epoch milliseconds). Pure. Both digests are verified before anything
 * about the account's state (API switch, role, allow list, expiry) can show in the outcome, so
 * only holders of both keys learn it; in particular the 403 for a source address is reserved
 * for callers who proved both keys. A secret replaced by a roll matches until its grace period
 * ends, and never after; an expired key matches nothing.
 */
export function decide(
  credentials: ParsedCredentials,
  records: AuthorizationRecords,
  peppers: PepperRing,
  sourceIp: string,
  now: number = Date.now(),
  apiSwitchRoute = false,
): AuthorizationDecision {
  const ids = { accountId: credentials.accountId, keyId: credentials.keyId };
  const { account, key } = records;
  if (account === undefined) return unauthorized('unknown-account', ids);
  const accountMatch = matchSecret(
    peppers,
    credentials.accountKey,
    account.accountKeyHash,
    account.accountKeyPepperVersion,
    account.previousAccountKey,
    now,
  );
  if (accountMatch === 'none') return unauthorized('account-key-mismatch', ids);
  if (accountMatch === 'grace-period-over') return unauthorized('grace-period-over', ids);
  if (key === undefined) return unauthorized('unknown-key', ids);
  const keyMatch = matchSecret(peppers, credentials.userKey, key.secretHash, key.pepperVersion, key.previousSecret, now);
  if (keyMatch === 'none') return unauthorized('user-key-mismatch', ids);
  if (keyMatch === 'grace-period-over') return unauthorized('grace-period-over', ids);
  if (key.expiresAt !== undefined && now >= key.expiresAt) return unauthorized('key-expired', ids);
  // While the API is off, only an owner on a switch route gets further (to turn it back on).
  if (!account.apiEnabled && !(apiSwitchRoute && key.role === 'owner')) return unauthorized('api-disabled', ids);
  if (!canHoldKeys(key.role)) return unauthorized('role-cannot-hold-keys', ids);
  // The key's list is intersected with what the role grants now: a demotion narrows it at once.
  const permissions = effectivePermissions(key.role, key.permissions);
  const principal: Principal = { ...ids, userId: key.userId, role: key.role, ...(permissions === null ? {} : { permissions }) };
  if (!isSourceAllowed(key.cidrs, sourceIp)) return { outcome: 'deny-source-ip', principal };
  const validUntil = earliest(
    key.expiresAt,
    keyMatch === 'previous' ? key.previousSecret?.expiresAt : undefined,
    accountMatch === 'previous' ? account.previousAccountKey?.expiresAt : undefined,
  );
  const allow = {
    outcome: account.apiEnabled ? 'allow' : 'allow-api-switch',
    principal,
    presentedSecrets: {
      accountKey: (accountMatch === 'current' ? account.accountKeyTag : account.previousAccountKey?.tag) ?? UNTAGGED_SECRET,
      userKey: (keyMatch === 'current' ? key.secretTag : key.previousSecret?.tag) ?? UNTAGGED_SECRET,
    },
    plan: account.plan,
    usageIdentifierKey: account.usageIdentifierKey,
  } as const;
  return validUntil === undefined ? allow : { ...allow, validUntil };
}

/**
 * Authorizes one request: parse (no I/O), then the container's peppers (cached) and exactly
 * one store read. Store and KMS failures propagate as exceptions: the caller must fail closed.
 */
export async function authorize(
  deps: Pick<AuthorizerDeps, 'credentials' | 'peppers' | 'now' | 'digestUpgrades'>,
  request: AuthorizationRequest,
): Promise<AuthorizationDecision> {
  const parsed = parseCredentials(request);
  if (!parsed.ok) return parsed.decision;
  const { credentials } = parsed;
  const [peppers, records] = await Promise.all([
    deps.peppers(),
    deps.credentials.loadForAuthorization(credentials.accountId, credentials.keyId),
  ]);
  // A digest made with a pepper newer than this container's ring (a rotation since it
  // started) reloads the ring once; without this, new keys would fail until a cold start.
  const newest = Math.max(records.account?.accountKeyPepperVersion ?? 0, records.key?.pepperVersion ?? 0);
  const ring = newest > peppers.current.version ? await deps.peppers(newest) : peppers;
  const decision = decide(credentials, records, ring, request.sourceIp, (deps.now?.() ?? new Date()).getTime(), request.apiSwitchRoute);
  // Not awaited: retiring an old pepper must cost the request nothing.
  if (decision.outcome === 'allow') deps.digestUpgrades?.offer(credentials, records, ring);
  return decision;
}
