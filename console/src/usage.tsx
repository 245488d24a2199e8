import { useCallback } from 'preact/hooks';
import type { Api, Plan } from './api.ts';
import { when } from './format.ts';
import { UsageChart } from './usage-chart.tsx';
import { useLoaded } from './use-loaded.ts';

const PERIOD_NAMES = { DAY: 'day', WEEK: 'week', MONTH: 'month' } as const;

function planText(plan: Plan): string {
  const rate = `${plan.rateLimit} requests per second, bursts of ${plan.burstLimit}`;
  return plan.quota === null ? `${rate}, no quota` : `${rate}, ${plan.quota.limit} requests per ${PERIOD_NAMES[plan.quota.period]}`;
}

/** The account's plan, what it used this period, and its last 30 days (`GET /v1/account/usage`). */
export function UsageSection(props: { api: Api }) {
  const { api } = props;
  const { data: usage, error } = useLoaded(useCallback(() => api.usage(), [api]));
  return (
    <section aria-labelledby="usage-title" class="usage">
      <h2 id="usage-title">Usage</h2>
      {error === undefined ? null : <p role="alert" class="error">{error}</p>}
      {usage === undefined ? (
        error === undefined ? <p role="status">Loading usage…</p> : null
      ) : (
        <>
          <dl>
            <dt>Plan</dt>
            <dd>{planText(usage.plan)}</dd>
            <dt>Used this period</dt>
            <dd>
              {usage.used} requests since <span title={usage.periodStart}>{when(usage.periodStart)}</span>
            </dd>
            <dt>Remaining</dt>
            <dd>{usage.remaining === null ? 'No quota' : `${usage.remaining} requests`}</dd>
          </dl>
          <UsageChart daily={usage.daily} />
        </>
      )}
    </section>
  );
}
