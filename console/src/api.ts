/**
 * The console's client of the Latchkey API: same origin, both keys on every request, and a
 * 401 from anywhere reported once as the end of the session.
 */

import { KEY_NAME_MAX, KEY_NAME_MIN, keyNameRuleBroken } from '../../shared/domain/key-name.ts';
import type { Usage } from '../../shared/domain/plan.ts';
import type { KeyRole, Role } from '../../shared/domain/roles.ts';

// The roles, the key-name rule and the plan's shape are the domain's own, so the console cannot drift from the API.
export type { DailyUsage, Plan, Usage } from '../../shared/domain/plan.ts';
export { ROLES, canHoldKeys, type KeyRole, type Role } from '../../shared/domain/roles.ts';

export interface Keys {
  readonly accountKey: string;
  readonly userKey: string;
}


export interface WhoAmI {
  readonly accountId: string;
  readonly userId: string;
  readonly role: KeyRole;
  readonly keyId: string;
  readonly sourceIp: string;
}
export interface Account {
  readonly id: string;
  readonly name: string;
  readonly apiEnabled: boolean;
  readonly accountKey: { readonly masked: string };
  readonly createdAt: string;
  /** When the account key was reported as leaked; null once it is rolled (or never reported). */
  readonly accountKeyLeakReportedAt: string | null;
}
export interface User {
  readonly id: string;
  readonly name: string;
  readonly email: string;
  readonly role: Role;
  readonly createdAt: string;
}
export interface CidrRule {
  readonly id: string;
  readonly cidr: string;
  readonly createdAt: string;
}
export interface ApiKey {
  readonly id: string;
  readonly name: string;
  readonly userId: string;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly cidrAllowList: readonly CidrRule[];
  /** null: the key never expires. */
  readonly expiresAt: string | null;
  /** null: full access (all its holder's role grants); otherwise only these. */
  readonly permissions: readonly string[] | null;
}
/** One permission of this deployment: the routes that need it and the key roles that grant it. */
export interface Permission {
  readonly name: string;
  readonly routes: readonly string[];
  readonly roles: readonly KeyRole[];
}

export interface RolledAccountKey {
  readonly accountKey: string;
  readonly previousKeyExpiresAt: string | null;
}
export interface AuditEvent {
  readonly id: string;
  readonly time: string;
  readonly action: string;
  readonly actor: { readonly userId: string | null; readonly keyId: string | null };
  readonly target: string;
  readonly sourceIp: string | null;
}
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}

/** An answer other than 2xx; `message` is what a person can act on (the problem's detail and fields). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The API's own base: the console is served at `<base>/console` (a stage prefix on AWS, none locally). */
export function apiBase(pathname: string): string {
  return pathname.replace(/\/console\/?$/, '');
}

/** API Gateway's own 403 bodies: a person reads what they mean instead. */
const OUTSIDE_ALLOW_LIST = 'User is not authorized to access this resource with an explicit deny';
const ROLE_REFUSED = 'User is not authorized to access this resource';

function messageOf(status: number, body: unknown): string {
  if (typeof body === 'object' && body !== null) {
    const { message: gatewayMessage } = body as { message?: unknown };
    if (status === 403 && gatewayMessage === OUTSIDE_ALLOW_LIST) {
      return "Refused (403): your address is outside this user key's CIDR allow list. Sign in with another key, or ask an owner to add your address.";
    }
    // The same answer for a route the role may not call and one a restricted key's list leaves out.
    if (status === 403 && gatewayMessage === ROLE_REFUSED) return "Refused (403): your role, or this key's permissions, do not allow this.";
    const { detail, message, errors } = body as { detail?: unknown; message?: unknown; errors?: unknown };
    if (Array.isArray(errors) && errors.length > 0) {
      return errors.map((e) => (typeof e === 'object' && e !== null ? String((e as { message?: unknown }).message) : String(e))).join('; ');
    }
    if (typeof detail === 'string') return detail;
    if (typeof message === 'string') return message;
  }
  return `The request failed (${status}).`;
}

function parsedBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Not JSON (a proxy's error page): the status alone says what happened.
    return undefined;
  }
}

export class Api {
  constructor(
    private readonly base: string,
    private readonly keys: Keys,
    private readonly onUnauthorized: () => void,
  ) {}

  async request<T>(method: string, path: string, body?: unknown, options: { quiet401?: boolean } = {}): Promise<T> {
    const headers: Record<string, string> = { 'x-api-key': this.keys.accountKey, 'x-api-secret-key': this.keys.userKey };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch {
      throw new ApiError(0, 'The API could not be reached. Check the connection and try again.');
    }
    const text = await response.text();
    const parsed = parsedBody(text);
    if (response.status === 401 && options.quiet401 !== true) this.onUnauthorized();
    if (!response.ok) throw new ApiError(response.status, messageOf(response.status, parsed));
    return parsed as T;
  }

  whoami = (quiet = false): Promise<WhoAmI> => this.request('GET', '/v1/whoami', undefined, { quiet401: quiet });
  account = (quiet = false): Promise<Account> => this.request('GET', '/v1/account', undefined, { quiet401: quiet });
  setApiEnabled = (apiEnabled: boolean): Promise<Account> => this.request('PATCH', '/v1/account', { apiEnabled });
  revealAccountKey = async (): Promise<string> => (await this.request<{ accountKey: string }>('GET', '/v1/account/key')).accountKey;
  users = async (): Promise<readonly User[]> => (await this.request<{ items: User[] }>('GET', '/v1/users')).items;
  createUser = (body: { name: string; email: string; role: Role }): Promise<User> => this.request('POST', '/v1/users', body);
  updateUser = (userId: string, role: Role): Promise<User> => this.request('PATCH', `/v1/users/${encodeURIComponent(userId)}`, { role });
  deleteUser = (userId: string): Promise<void> => this.request('DELETE', `/v1/users/${encodeURIComponent(userId)}`);
  async apiKeys(): Promise<readonly ApiKey[]> {
    const keys: ApiKey[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? '?limit=100' : `?limit=100&cursor=${encodeURIComponent(cursor)}`;
      const page: Page<ApiKey> = await this.request('GET', `/v1/api-keys${query}`);
      keys.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    return keys;
  }
  createApiKey = (body: { name: string; userId: string; expiresAt?: string; permissions?: readonly string[] }): Promise<ApiKey & { secret: string }> =>
    this.request('POST', '/v1/api-keys', body);
  /** null lifts the restriction (full access). */
  updateApiKeyPermissions = (keyId: string, permissions: readonly string[] | null): Promise<ApiKey> =>
    this.request('PATCH', `/v1/api-keys/${encodeURIComponent(keyId)}`, { permissions });
  permissions = async (): Promise<readonly Permission[]> => (await this.request<{ items: Permission[] }>('GET', '/v1/permissions')).items;
  rollApiKey = (keyId: string, gracePeriodSeconds: number): Promise<ApiKey & { secret: string; previousSecretExpiresAt: string | null }> =>
    this.request('POST', `/v1/api-keys/${encodeURIComponent(keyId)}/roll`, { gracePeriodSeconds });
  rollAccountKey = (gracePeriodSeconds: number): Promise<RolledAccountKey> => this.request('POST', '/v1/account/key/roll', { gracePeriodSeconds });
  usage = (): Promise<Usage> => this.request('GET', '/v1/account/usage');
  deleteApiKey = (keyId: string): Promise<void> => this.request('DELETE', `/v1/api-keys/${encodeURIComponent(keyId)}`);
  cidrRules = async (keyId: string): Promise<readonly CidrRule[]> =>
    (await this.request<{ rules: CidrRule[] }>('GET', `/v1/api-keys/${encodeURIComponent(keyId)}/cidr-allow-list`)).rules;
  addCidrRule = (keyId: string, cidr: string): Promise<CidrRule> =>
    this.request('POST', `/v1/api-keys/${encodeURIComponent(keyId)}/cidr-allow-list`, { cidr });
  updateCidrRule = (keyId: string, ruleId: string, cidr: string): Promise<CidrRule> =>
    this.request('PUT', `/v1/api-keys/${encodeURIComponent(keyId)}/cidr-allow-list/${encodeURIComponent(ruleId)}`, { cidr });
  deleteCidrRule = (keyId: string, ruleId: string): Promise<void> =>
    this.request('DELETE', `/v1/api-keys/${encodeURIComponent(keyId)}/cidr-allow-list/${encodeURIComponent(ruleId)}`);
  events = (cursor: string | null): Promise<Page<AuditEvent>> =>
    this.request('GET', `/v1/logs?limit=20${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
}

/** The key name rule of the API (10-50 of letters, digits, `-`, `_`), checked as the person types. */
export function keyNameProblem(name: string): string | undefined {
  switch (keyNameRuleBroken(name)) {
    case 'length':
      return `Must be between ${KEY_NAME_MIN} and ${KEY_NAME_MAX} characters long.`;
    case 'pattern':
      return 'Can contain only letters, digits, hyphens and underscores; spaces are not allowed.';
    case undefined:
      return undefined;
  }
}
