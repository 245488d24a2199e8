import type { PolicyDocument, Statement } from 'aws-lambda';
import type { AuthorizerDeps } from './deps.ts';
import { parseAccountKey, parseUserKey } from './domain/key-format.ts';
import type { PepperRing } from './domain/hashing.ts';
import { isSourceAllowed } from './domain/cidr.ts';
import { canHoldKeys, type KeyRole } from './domain/roles.ts';
import type { Plan } from './domain/plan.ts';
import type { Principal } from './model.ts';
import type { AuthorizationRecords } from './ports.ts';
import { ROUTES } from './routes.ts';

/**
 * The authorizer's decision, independent of API Gateway: which keys are valid, whose they are
 * and whether the caller's address may use them. Handlers (the Lambda authorizer, the local
 * runtime) turn the decision into a policy.
 */

export const ACCOUNT_KEY_HEADER = 'x-api-key';
export const USER_KEY_HEADER = 'x-api-secret-key';

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
  | 'role-cannot-hold-keys';

export type AuthorizationDecision =
  | {
      readonly outcome: 'allow';
      readonly principal: Principal;
      /** The account's own plan (absent: the default) and its usage-plan key's value, from the same read. */
      readonly plan?: Plan | undefined;
      readonly usageIdentifierKey?: string | undefined;
    }
  | {
      readonly outcome: 'deny-unauthorized';
      readonly reason: UnauthorizedReason;
      /** The ids the request claimed, when its keys were well formed (not proof of anything). */
      readonly accountId?: string | undefined;
      readonly keyId?: string | undefined;
    }
  | { readonly outcome: 'deny-source-ip'; readonly principal: Principal };

/** What a request presents: header values (all of them, for each name) and the connection's address. */
export interface AuthorizationRequest {
  readonly accountKey: readonly string[];
  readonly userKey: readonly string[];
  readonly sourceIp: string;
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

/**
 * The decision for well-formed credentials, given what the store holds and the container's
 * peppers. Pure. Both digests are verified before anything about the account's state (API
 * switch, role, allow list) can show in the outcome, so only holders of both keys learn it;
 * in particular the 403 for a source address is reserved for callers who proved both keys.
 */
export function decide(
  credentials: ParsedCredentials,
  records: AuthorizationRecords,
  peppers: PepperRing,
  sourceIp: string,
): AuthorizationDecision {
  const ids = { accountId: credentials.accountId, keyId: credentials.keyId };
  const { account, key } = records;
  if (account === undefined) return unauthorized('unknown-account', ids);
  if (!peppers.verify(credentials.accountKey, account.accountKeyHash, account.accountKeyPepperVersion)) {
    return unauthorized('account-key-mismatch', ids);
  }
  if (key === undefined) return unauthorized('unknown-key', ids);
  if (!peppers.verify(credentials.userKey, key.secretHash, key.pepperVersion)) return unauthorized('user-key-mismatch', ids);
  if (!account.apiEnabled) return unauthorized('api-disabled', ids);
  if (!canHoldKeys(key.role)) return unauthorized('role-cannot-hold-keys', ids);
  const principal: Principal = { ...ids, userId: key.userId, role: key.role };
  if (!isSourceAllowed(key.cidrs, sourceIp)) return { outcome: 'deny-source-ip', principal };
  return { outcome: 'allow', principal, plan: account.plan, usageIdentifierKey: account.usageIdentifierKey };
}

/**
 * Authorizes one request: parse (no I/O), then the container's peppers (cached) and exactly
 * one store read. Store and KMS failures propagate as exceptions: the caller must fail closed.
 */
export async function authorize(
  deps: Pick<AuthorizerDeps, 'credentials' | 'peppers'>,
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
  return decide(credentials, records, ring, request.sourceIp);
}

// ---------------------------------------------------------------------------------------------
// Policies

export const INVOKE_ACTION = 'execute-api:Invoke';
const POLICY_VERSION = '2012-10-17';

/**
 * `arn:aws:execute-api:<region>:<account>:<apiId>/<stage>` from a method ARN
 * (`…/<stage>/<METHOD>/<path>`). Policies are built on this base, not on the incoming method
 * ARN, because API Gateway caches one policy per identity and reuses it for every route.
 */
export function apiBaseArn(methodArn: string): string {
  const [apiArn, stage] = methodArn.split('/');
  if (apiArn === undefined || stage === undefined || stage === '' || !/^arn:[^:]+:execute-api:[^:]+:[^:]+:[^:/]+$/.test(apiArn)) {
    throw new Error(`not an execute-api method ARN: '${methodArn}'`);
  }
  return `${apiArn}/${stage}`;
}

/** The resource ARN of a route: `{param}` segments become `*`. */
export function routeResource(apiBase: string, method: string, path: string): string {
  return `${apiBase}/${method}${path.replace(/\{\w+\}/g, '*')}`;
}

/** Every route this role may call, and only those; the others stay implicitly denied (403). */
export function allowPolicy(role: KeyRole, apiBase: string): PolicyDocument {
  const cacheKey = `${role} ${apiBase}`;
  let policy = allowPolicies.get(cacheKey);
  if (policy === undefined) {
    const resources = ROUTES.filter((route) => (route.roles as readonly KeyRole[]).includes(role)).map((route) =>
      routeResource(apiBase, route.method, route.path),
    );
    const built: PolicyDocument = { Version: POLICY_VERSION, Statement: [{ Effect: 'Allow', Action: INVOKE_ACTION, Resource: resources }] };
    policy = deepFreeze(built);
    // A container serves one stage, so this holds a handful of entries; the bound is only a backstop.
    if (allowPolicies.size >= 64) allowPolicies.clear();
    allowPolicies.set(cacheKey, policy);
  }
  return policy;
}

/** Built once per role and stage: the policy is on the hot path and depends on nothing else. */
const allowPolicies = new Map<string, PolicyDocument>();

function deepFreeze<T extends object>(value: T): T {
  for (const inner of Object.values(value)) if (typeof inner === 'object' && inner !== null) deepFreeze(inner as object);
  return Object.freeze(value);
}

/** An explicit Deny on every route of the stage: API Gateway's 403 "...with an explicit deny". */
export function denyAllPolicy(apiBase: string): PolicyDocument {
  return { Version: POLICY_VERSION, Statement: [{ Effect: 'Deny', Action: INVOKE_ACTION, Resource: `${apiBase}/*/*` }] };
}

export type PolicyEvaluation = 'allow' | 'explicit-deny' | 'implicit-deny';

/**
 * What API Gateway does with an authorizer's policy for one method ARN: any matching Deny
 * wins, else any matching Allow, else the request is implicitly denied. Resources and
 * actions match as IAM patterns (`*` any run of characters, `/` included; `?` one
 * character); resources case-sensitively, actions not. Conditions are not evaluated: a
 * conditional Allow grants nothing and a conditional Deny always applies, so an
 * unsupported policy can only fail closed.
 */
export function evaluatePolicy(policy: PolicyDocument, methodArn: string): PolicyEvaluation {
  let allowed = false;
  for (const statement of policy.Statement) {
    if (!statementMatches(statement, methodArn)) continue;
    if (statement.Effect === 'Deny') return 'explicit-deny';
    if (statement.Condition === undefined) allowed = true;
  }
  return allowed ? 'allow' : 'implicit-deny';
}

function statementMatches(statement: Statement, methodArn: string): boolean {
  const actionMatches =
    'Action' in statement
      ? asList(statement.Action).some((p) => wildcardMatch(p, INVOKE_ACTION, true))
      : !asList(statement.NotAction).some((p) => wildcardMatch(p, INVOKE_ACTION, true));
  if (!actionMatches) return false;
  if ('Resource' in statement && statement.Resource !== undefined) {
    return asList(statement.Resource).some((p) => wildcardMatch(p, methodArn, false));
  }
  if ('NotResource' in statement && statement.NotResource !== undefined) {
    return !asList(statement.NotResource).some((p) => wildcardMatch(p, methodArn, false));
  }
  return false;
}

function asList(value: string | readonly string[]): readonly string[] {
  return typeof value === 'string' ? [value] : value;
}

/** IAM-style glob match without regular expressions (so no pattern can be slow or inject syntax). */
export function wildcardMatch(pattern: string, value: string, ignoreCase: boolean): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const v = ignoreCase ? value.toLowerCase() : value;
  let pi = 0;
  let vi = 0;
  let starAt = -1;
  let starValueAt = 0;
  while (vi < v.length) {
    const pc = p[pi];
    if (pc !== undefined && pc !== '*' && (pc === '?' || pc === v[vi])) {
      pi += 1;
      vi += 1;
    } else if (pc === '*') {
      starAt = pi;
      starValueAt = vi;
      pi += 1;
    } else if (starAt !== -1) {
      pi = starAt + 1;
      starValueAt += 1;
      vi = starValueAt;
    } else {
      return false;
    }
  }
  while (p[pi] === '*') pi += 1;
  return pi === p.length;
}
