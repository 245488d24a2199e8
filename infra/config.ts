import { API_FLAVORS, MAX_KEYS_PER_USER, MAX_RULES_PER_KEY, DEFAULT_LIMITS, type ApiFlavor } from '#shared/adapters/environment.ts';
import { DEFAULT_PLAN, MAX_BURST_LIMIT, MAX_QUOTA_LIMIT, QUOTA_PERIODS, isQuotaPeriod, type Plan } from '#shared/domain/plan.ts';

/**
 * The deployment's settings, read from CDK context (`-c name=value` or `cdk.json`) and checked
 * before any construct is built, so that a typo fails `cdk synth` with a message that names the
 * setting instead of producing a half-configured stack. docs/deploy.md lists every setting.
 */
export interface LatchkeyConfig {
  /** The front door (context flavor): API Gateway REST (`rest`) or HTTP API (`http`, DESIGN 15). */
  readonly flavor: ApiFlavor;
  /** API Gateway stage name; also names the KMS alias. */
  readonly stage: string;
  /** Seconds API Gateway caches an authorizer decision per (account key, user key, source IP); 0 turns caching off. */
  readonly authorizerCacheTtl: number;
  readonly maxKeysPerUser: number;
  readonly maxRulesPerKey: number;
  /** Days audit events are kept (DynamoDB TTL); 0 keeps them forever. */
  readonly auditRetentionDays: number;
  /** Retention of every log group of the stacks (Lambda logs and API Gateway access logs). */
  readonly logRetentionDays: number;
  readonly throttleRate: number;
  readonly throttleBurst: number;
  /**
   * Whether deleting the stacks deletes the table, the KMS key and the logs too. Off by default:
   * the table holds every account and the key is the only way to read its secrets.
   */
  readonly destroyOnRemoval: boolean;
  /** The default plan: every account without its own (context rateLimit, burstLimit, quotaLimit, quotaPeriod). */
  readonly plan: Plan;
  /** Whether an AWS WAF web ACL guards the stage (context waf). */
  readonly waf: boolean;
  /** Requests per source address per 5 minutes before WAF blocks it (context wafRateLimit). */
  readonly wafRateLimit: number;
}

export const DEFAULT_CONFIG: LatchkeyConfig = {
  flavor: 'rest',
  stage: 'prod',
  authorizerCacheTtl: 300,
  maxKeysPerUser: DEFAULT_LIMITS.keysPerUser,
  maxRulesPerKey: DEFAULT_LIMITS.rulesPerKey,
  auditRetentionDays: 365,
  logRetentionDays: 30,
  throttleRate: 50,
  throttleBurst: 100,
  destroyOnRemoval: false,
  plan: DEFAULT_PLAN,
  waf: true,
  wafRateLimit: 2000,
};

/** The retention periods CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** API Gateway caps the authorizer result cache at one hour. */
export const MAX_AUTHORIZER_CACHE_TTL = 3600;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid Latchkey configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Anything that can answer a context look-up: an App's or a Stack's `node`. */
export interface ContextSource {
  tryGetContext(key: string): unknown;
}

type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

function parseInteger(name: string, raw: unknown, min: number, max: number): Parsed<number> {
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    return { ok: false, problem: `${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw)})` };
  }
  return { ok: true, value };
}

function parseRate(name: string, raw: unknown): Parsed<number> {
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 10_000) {
    return { ok: false, problem: `${name} must be a number of requests per second above 0 and at most 10000 (got ${JSON.stringify(raw)})` };
  }
  return { ok: true, value };
}

function parseBoolean(name: string, raw: unknown): Parsed<boolean> {
  if (raw === true || raw === 'true') return { ok: true, value: true };
  if (raw === false || raw === 'false') return { ok: true, value: false };
  return { ok: false, problem: `${name} must be true or false (got ${JSON.stringify(raw)})` };
}

function parseStage(raw: unknown): Parsed<string> {
  // API Gateway's rule for stage names; kept to 64 so that names built from it stay within limits.
  if (typeof raw !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(raw)) {
    return { ok: false, problem: `stage must be 1-64 letters, digits, '-' or '_' (got ${JSON.stringify(raw)})` };
  }
  return { ok: true, value: raw };
}

function parseFlavor(raw: unknown): Parsed<ApiFlavor> {
  const flavor = API_FLAVORS.find((value) => value === raw);
  if (flavor === undefined) return { ok: false, problem: `flavor must be one of ${API_FLAVORS.join(', ')} (got ${JSON.stringify(raw)})` };
  return { ok: true, value: flavor };
}

function parseLogRetention(raw: unknown): Parsed<number> {
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof value !== 'number' || !(LOG_RETENTION_DAYS as readonly number[]).includes(value)) {
    return { ok: false, problem: `logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(', ')} (got ${JSON.stringify(raw)})` };
  }
  return { ok: true, value };
}

/** Reads and validates every setting; reports all problems at once. */
export function configFromContext(context: ContextSource): LatchkeyConfig {
  const read = (key: keyof LatchkeyConfig): unknown => context.tryGetContext(key) ?? DEFAULT_CONFIG[key];
  const limits = usageLimitsFromContext(context);
  const parsed = {
    flavor: parseFlavor(read('flavor')),
    stage: parseStage(read('stage')),
    authorizerCacheTtl: parseInteger('authorizerCacheTtl', read('authorizerCacheTtl'), 0, MAX_AUTHORIZER_CACHE_TTL),
    maxKeysPerUser: parseInteger('maxKeysPerUser', read('maxKeysPerUser'), 1, MAX_KEYS_PER_USER),
    maxRulesPerKey: parseInteger('maxRulesPerKey', read('maxRulesPerKey'), 1, MAX_RULES_PER_KEY),
    auditRetentionDays: parseInteger('auditRetentionDays', read('auditRetentionDays'), 0, 36_500),
    logRetentionDays: parseLogRetention(read('logRetentionDays')),
    throttleRate: parseRate('throttleRate', read('throttleRate')),
    throttleBurst: parseInteger('throttleBurst', read('throttleBurst'), 1, 5_000),
    destroyOnRemoval: parseBoolean('destroyOnRemoval', read('destroyOnRemoval')),
  };
  const problems = [...Object.values(parsed).flatMap((p) => (p.ok ? [] : [p.problem])), ...(limits.ok ? [] : limits.problems)];
  // HTTP APIs cannot be associated with a WAF web ACL: asking for both is a mistake, not a silent loss.
  const http = parsed.flavor.ok && parsed.flavor.value === 'http';
  if (http && limits.ok && context.tryGetContext('waf') !== undefined && limits.value.waf) {
    problems.push('waf=true needs flavor=rest: an HTTP API cannot be associated with an AWS WAF web ACL (docs/deploy.md)');
  }
  if (
    problems.length > 0 ||
    !parsed.flavor.ok ||
    !parsed.stage.ok ||
    !parsed.authorizerCacheTtl.ok ||
    !parsed.maxKeysPerUser.ok ||
    !parsed.maxRulesPerKey.ok ||
    !parsed.auditRetentionDays.ok ||
    !parsed.logRetentionDays.ok ||
    !parsed.throttleRate.ok ||
    !parsed.throttleBurst.ok ||
    !parsed.destroyOnRemoval.ok ||
    !limits.ok
  ) {
    throw new ConfigError(problems);
  }
  return {
    flavor: parsed.flavor.value,
    stage: parsed.stage.value,
    authorizerCacheTtl: parsed.authorizerCacheTtl.value,
    maxKeysPerUser: parsed.maxKeysPerUser.value,
    maxRulesPerKey: parsed.maxRulesPerKey.value,
    auditRetentionDays: parsed.auditRetentionDays.value,
    logRetentionDays: parsed.logRetentionDays.value,
    throttleRate: parsed.throttleRate.value,
    throttleBurst: parsed.throttleBurst.value,
    destroyOnRemoval: parsed.destroyOnRemoval.value,
    ...limits.value,
    // The WAF is the REST flavor's: off by default in the HTTP flavor, which cannot have one.
    ...(http ? { waf: false } : {}),
  };
}

type UsageLimitsConfig = Pick<LatchkeyConfig, 'plan' | 'waf' | 'wafRateLimit'>;

/** The default plan and the WAF settings; a quota needs both quotaLimit and quotaPeriod. */
function usageLimitsFromContext(
  context: ContextSource,
): { readonly ok: true; readonly value: UsageLimitsConfig } | { readonly ok: false; readonly problems: readonly string[] } {
  const get = (key: string): unknown => context.tryGetContext(key);
  const rate = parseRate('rateLimit', get('rateLimit') ?? DEFAULT_PLAN.rateLimit);
  const burst = parseInteger('burstLimit', get('burstLimit') ?? DEFAULT_PLAN.burstLimit, 1, MAX_BURST_LIMIT);
  const waf = parseBoolean('waf', get('waf') ?? DEFAULT_CONFIG.waf);
  // AWS WAF's rate-based rules take 10 to 2,000,000,000 requests per evaluation window.
  const wafRateLimit = parseInteger('wafRateLimit', get('wafRateLimit') ?? DEFAULT_CONFIG.wafRateLimit, 10, 2_000_000_000);
  const rawLimit = get('quotaLimit');
  const rawPeriod = get('quotaPeriod');
  const problems = [rate, burst, waf, wafRateLimit].flatMap((p) => (p.ok ? [] : [p.problem]));
  let quota: Plan['quota'] = null;
  const absent = (raw: unknown): boolean => raw === undefined || raw === null || raw === '';
  if (absent(rawLimit) !== absent(rawPeriod)) {
    problems.push('quotaLimit and quotaPeriod are set together or not at all');
  } else if (!absent(rawLimit)) {
    const limit = parseInteger('quotaLimit', rawLimit, 1, MAX_QUOTA_LIMIT);
    if (!limit.ok) problems.push(limit.problem);
    if (!isQuotaPeriod(rawPeriod)) problems.push(`quotaPeriod must be one of ${QUOTA_PERIODS.join(', ')} (got ${JSON.stringify(rawPeriod)})`);
    if (limit.ok && isQuotaPeriod(rawPeriod)) quota = { limit: limit.value, period: rawPeriod };
  }
  if (!rate.ok || !burst.ok || !waf.ok || !wafRateLimit.ok || problems.length > 0) return { ok: false, problems };
  return { ok: true, value: { plan: { rateLimit: rate.value, burstLimit: burst.value, quota }, waf: waf.value, wafRateLimit: wafRateLimit.value } };
}
