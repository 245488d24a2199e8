import { randomBytes } from 'node:crypto';
import {
  type APIGatewayClient,
  ConflictException,
  CreateApiKeyCommand,
  CreateUsagePlanCommand,
  CreateUsagePlanKeyCommand,
  DeleteApiKeyCommand,
  DeleteUsagePlanKeyCommand,
  GetUsageCommand,
  GetUsagePlansCommand,
  NotFoundException,
} from '@aws-sdk/client-api-gateway';
import { type Plan, dailySeries, usageDays, utcDate } from '../domain/plan.ts';
import type { UsageFigures, UsageKey, UsagePlans } from '../ports/usage-plans.ts';

export interface ApiGatewayUsagePlansOptions {
  readonly restApiId: string;
  readonly stageName: string;
}

/**
 * The tag every usage plan of a stage carries, valued `usagePlanStageTag(restApiId, stage)`: the
 * functions may read usage (GetUsage) of the plans with their stage's tag only (usage-limits.ts).
 */
export const USAGE_PLAN_STAGE_TAG = 'latchkey:stage';

export function usagePlanStageTag(restApiId: string, stageName: string): string {
  return `${restApiId}/${stageName}`;
}

/** The name of the usage plan the stack makes for the default plan. */
export function defaultUsagePlanName(stageName: string): string {
  return `latchkey-${stageName}-default`;
}

/**
 * API Gateway's usage plans, one per distinct plan (a tier), not one per account: usage plans
 * are limited per region (300 by default) while API keys go to 10,000, so an account gets an
 * API key of its own and shares the usage plan of its tier. The default plan's usage plan is
 * made by the stack; the plan of `set-plan` is found by its name, or made bound to the stage.
 * Throttling and quotas apply per API key, so accounts sharing a usage plan never share limits.
 */
export class ApiGatewayUsagePlans implements UsagePlans {
  /** API Gateway REST throttles and counts each account's key by its usage plan. */
  readonly enforced = true;
  readonly #client: APIGatewayClient;
  readonly #options: ApiGatewayUsagePlansOptions;

  constructor(client: APIGatewayClient, options: ApiGatewayUsagePlansOptions) {
    this.#client = client;
    this.#options = options;
  }

  async createKey(accountId: string, plan: Plan | null): Promise<UsageKey> {
    const usagePlanId = await this.#usagePlanId(plan);
    // 48 hex characters: API Gateway wants 20-128 alphanumerics, and only the authorizer ever presents it.
    const value = randomBytes(24).toString('hex');
    const created = await this.#client.send(
      new CreateApiKeyCommand({
        name: `latchkey-${this.#options.stageName}-${accountId}`,
        description: `Usage-plan key of Latchkey account ${accountId}; presented only by the authorizer`,
        enabled: true,
        value,
      }),
    );
    if (created.id === undefined) throw new Error('API Gateway created an API key without an id');
    const key: UsageKey = { id: created.id, value, usagePlanId };
    try {
      await this.#client.send(new CreateUsagePlanKeyCommand({ usagePlanId, keyId: key.id, keyType: 'API_KEY' }));
    } catch (error) {
      // Nothing half made: a key that is in no usage plan would refuse every request of the account.
      await this.deleteKey(key).catch(() => undefined);
      throw error;
    }
    return key;
  }

  async deleteKey(key: UsageKey): Promise<void> {
    try {
      // Deleting the API key also ends its usage plan associations.
      await this.#client.send(new DeleteApiKeyCommand({ apiKey: key.id }));
    } catch (error) {
      if (!(error instanceof NotFoundException)) throw error;
    }
  }

  async assignPlan(key: UsageKey, plan: Plan | null): Promise<UsageKey> {
    const usagePlanId = await this.#usagePlanId(plan);
    if (usagePlanId === key.usagePlanId) return key;
    // A key may be in one usage plan per stage: it leaves the old one first. Until it joins the
    // new one (one call later), the account's requests are refused with 403.
    if (key.usagePlanId !== null) {
      try {
        await this.#client.send(new DeleteUsagePlanKeyCommand({ usagePlanId: key.usagePlanId, keyId: key.id }));
      } catch (error) {
        if (!(error instanceof NotFoundException)) throw error;
      }
    }
    try {
      await this.#client.send(new CreateUsagePlanKeyCommand({ usagePlanId, keyId: key.id, keyType: 'API_KEY' }));
    } catch (error) {
      // Already there: a retried set-plan.
      if (!(error instanceof ConflictException)) throw error;
    }
    return { ...key, usagePlanId };
  }

  async usage(_accountId: string, key: UsageKey | undefined, plan: Plan, from: Date, at: Date): Promise<UsageFigures> {
    if (key === undefined || key.usagePlanId === null) return { used: 0, remaining: plan.quota?.limit ?? null, daily: dailySeries(at, () => 0) };
    // One range serves both figures: the period (a month's starts up to 30 days back) and the
    // chart's 30 days. API Gateway keeps usage per usage plan and key, so after a plan move the
    // days before it are in the old usage plan and read here as 0: the current plan's usage is
    // the one shown, as API Gateway's own quota counts only it.
    const days = usageDays(at);
    const chartStart = days[0] ?? utcDate(at);
    const periodStart = utcDate(from);
    const startDate = periodStart < chartStart ? periodStart : chartStart;
    const requestsOn = new Map<string, number>();
    let remaining: number | null = plan.quota?.limit ?? null;
    let position: string | undefined;
    let dayIndex = 0;
    do {
      const output = await this.#client.send(
        new GetUsageCommand({ usagePlanId: key.usagePlanId, keyId: key.id, startDate, endDate: utcDate(at), position }),
      );
      // One [used, remaining] pair per day of the range, oldest first, from startDate on.
      for (const [dayUsed, dayRemaining] of output.items?.[key.id] ?? []) {
        const date = utcDate(new Date(Date.parse(`${startDate}T00:00:00Z`) + dayIndex * 86_400_000));
        dayIndex += 1;
        requestsOn.set(date, dayUsed ?? 0);
        if (plan.quota !== null && dayRemaining !== undefined) remaining = dayRemaining;
      }
      position = output.position;
    } while (position !== undefined);
    let used = 0;
    for (const [date, requests] of requestsOn) if (date >= periodStart) used += requests;
    return {
      used,
      remaining: plan.quota === null ? null : Math.max(0, remaining ?? plan.quota.limit - used),
      daily: dailySeries(at, (date) => requestsOn.get(date)),
    };
  }

  /** The usage plan of a tier on this stage: found by name (the default one is the stack's), else made. */
  async #usagePlanId(plan: Plan | null): Promise<string> {
    const { restApiId, stageName } = this.#options;
    const name = plan === null ? defaultUsagePlanName(stageName) : usagePlanName(stageName, plan);
    let position: string | undefined;
    do {
      const page = await this.#client.send(new GetUsagePlansCommand({ position, limit: 500 }));
      const tag = usagePlanStageTag(restApiId, stageName);
      // A tier's plan without the stage's tag (made before plans had it) is passed over: the
      // functions could not read its usage, so a tagged one is made and the key moves to it.
      const found = page.items?.find(
        (item) =>
          item.name === name &&
          (plan === null || item.tags?.[USAGE_PLAN_STAGE_TAG] === tag) &&
          (item.apiStages ?? []).some((stage) => stage.apiId === restApiId && stage.stage === stageName),
      );
      if (found?.id !== undefined) return found.id;
      position = page.position;
    } while (position !== undefined);
    if (plan === null) throw new Error(`the stage has no usage plan named ${name}: is the stack deployed with usage plans?`);
    const created = await this.#client.send(
      new CreateUsagePlanCommand({
        name,
        description: 'A Latchkey plan: accounts on it are throttled and counted each by their own API key',
        apiStages: [{ apiId: restApiId, stage: stageName }],
        tags: { [USAGE_PLAN_STAGE_TAG]: usagePlanStageTag(restApiId, stageName) },
        throttle: { rateLimit: plan.rateLimit, burstLimit: plan.burstLimit },
        ...(plan.quota === null ? {} : { quota: { limit: plan.quota.limit, period: plan.quota.period, offset: 0 } }),
      }),
    );
    if (created.id === undefined) throw new Error('API Gateway created a usage plan without an id');
    return created.id;
  }
}

/** A tier's usage plan is named after its numbers, so that every account on the same plan shares it. */
export function usagePlanName(stageName: string, plan: Plan): string {
  const quota = plan.quota === null ? 'noquota' : `q${plan.quota.limit}-${plan.quota.period.toLowerCase()}`;
  return `latchkey-${stageName}-r${plan.rateLimit}-b${plan.burstLimit}-${quota}`;
}
