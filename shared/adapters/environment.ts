import { DEFAULT_PLAN, MAX_BURST_LIMIT, MAX_QUOTA_LIMIT, MAX_RATE_LIMIT, QUOTA_PERIODS, isQuotaPeriod, type Plan } from '../domain/plan.ts';
import type { Limits } from '../ports/limits.ts';

/**
 * Configuration read from the environment (set by the CDK stack, or by the local runtime).
 * Every variable and its default is listed in docs/configuration.md.
 */
export const DEFAULT_LIMITS: Limits = { keysPerUser: 10, rulesPerKey: 20 };
/**
 * TransactWriteItems takes at most 100 items. A role change that takes a user's keys away
 * writes the user, each key, its name reservation and its `api-key.delete` event, the account
 * and its own event (3n + 3), so 32 keys keep it one transaction; deleting a user needs 2n + 3.
 */
export const MAX_KEYS_PER_USER = 32;
export const MAX_RULES_PER_KEY = 100;

export const ENV = {
  tableName: 'LATCHKEY_TABLE_NAME',
  kmsKeyId: 'LATCHKEY_KMS_KEY_ID',
  restApiId: 'LATCHKEY_REST_API_ID',
  /** The front door: `rest` (API Gateway REST, the default) or `http` (API Gateway HTTP API, DESIGN 15). */
  apiFlavor: 'LATCHKEY_API_FLAVOR',
  /** The HTTP API whose stage's authorizer cache is reset after a narrowing change (the `http` flavor). */
  httpApiId: 'LATCHKEY_HTTP_API_ID',
  stageName: 'LATCHKEY_STAGE_NAME',
  keysPerUser: 'LATCHKEY_MAX_KEYS_PER_USER',
  rulesPerKey: 'LATCHKEY_MAX_RULES_PER_KEY',
  auditRetentionDays: 'LATCHKEY_AUDIT_RETENTION_DAYS',
  rateLimit: 'LATCHKEY_RATE_LIMIT',
  burstLimit: 'LATCHKEY_BURST_LIMIT',
  quotaLimit: 'LATCHKEY_QUOTA_LIMIT',
  quotaPeriod: 'LATCHKEY_QUOTA_PERIOD',
  /** The authorizer's policy over management and team routes (route-policy.ts); absent: management routes only. */
  routePolicy: 'LATCHKEY_ROUTE_POLICY',
  /** The authorizer's permission policy file in its bundle (permission-policy.ts); absent: management routes only. */
  permissionPolicyFile: 'LATCHKEY_PERMISSION_POLICY_FILE',
  /** The EventBridge bus the table signals function puts each audit event on (AWS only). */
  eventBusName: 'LATCHKEY_EVENT_BUS_NAME',
} as const;

function intFromEnv(name: string, fallback: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new Error(`${name} must be a whole number from 1 to ${max} (got '${raw}')`);
  }
  return value;
}

export function limitsFromEnv(): Limits {
  return {
    keysPerUser: intFromEnv(ENV.keysPerUser, DEFAULT_LIMITS.keysPerUser, MAX_KEYS_PER_USER),
    rulesPerKey: intFromEnv(ENV.rulesPerKey, DEFAULT_LIMITS.rulesPerKey, MAX_RULES_PER_KEY),
  };
}

/** Audit events expire after this many days (DynamoDB TTL); 0 keeps them forever. */
export function auditRetentionDaysFromEnv(): number {
  const raw = process.env[ENV.auditRetentionDays];
  if (raw === undefined || raw === '') return 365;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${ENV.auditRetentionDays} must be a whole number of days`);
  return value;
}

export const API_FLAVORS = ['rest', 'http'] as const;
export type ApiFlavor = (typeof API_FLAVORS)[number];

/** The deployment's front door; absent: `rest`. Anything else is a deployment fault. */
export function apiFlavorFromEnv(): ApiFlavor {
  const raw = process.env[ENV.apiFlavor];
  if (raw === undefined || raw === '') return 'rest';
  if (!(API_FLAVORS as readonly string[]).includes(raw)) throw new Error(`${ENV.apiFlavor} must be one of ${API_FLAVORS.join(', ')} (got '${raw}')`);
  return raw as ApiFlavor;
}

export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`environment variable ${name} is not set`);
  return value;
}

/**
 * The plan of every account that has none of its own. A quota needs both its limit and its
 * period; a bad value is refused with the variable's name rather than read as "unlimited".
 */
export function defaultPlanFromEnv(): Plan {
  const rawRate = process.env[ENV.rateLimit];
  let rateLimit = DEFAULT_PLAN.rateLimit;
  if (rawRate !== undefined && rawRate !== '') {
    rateLimit = Number(rawRate);
    if (!Number.isFinite(rateLimit) || rateLimit <= 0 || rateLimit > MAX_RATE_LIMIT) {
      throw new Error(`${ENV.rateLimit} must be a number of requests per second above 0 and at most ${MAX_RATE_LIMIT} (got '${rawRate}')`);
    }
  }
  const burstLimit = intFromEnv(ENV.burstLimit, DEFAULT_PLAN.burstLimit, MAX_BURST_LIMIT);
  const rawLimit = process.env[ENV.quotaLimit] ?? '';
  const rawPeriod = process.env[ENV.quotaPeriod] ?? '';
  if (rawLimit === '' && rawPeriod === '') return { rateLimit, burstLimit, quota: null };
  if (rawLimit === '' || rawPeriod === '') {
    throw new Error(`${ENV.quotaLimit} and ${ENV.quotaPeriod} are set together or not at all`);
  }
  const limit = intFromEnv(ENV.quotaLimit, 1, MAX_QUOTA_LIMIT);
  if (!isQuotaPeriod(rawPeriod)) throw new Error(`${ENV.quotaPeriod} must be one of ${QUOTA_PERIODS.join(', ')} (got '${rawPeriod}')`);
  return { rateLimit, burstLimit, quota: { limit, period: rawPeriod } };
}
