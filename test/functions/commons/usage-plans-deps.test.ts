import { afterEach, describe, expect, it, vi } from 'vitest';
import { usagePlansFromEnv } from '#functions/commons/api-deps/usage-plans.ts';
import { ApiGatewayUsagePlans } from '#shared/adapters/apigw-usage-plans.ts';
import { ENV } from '#shared/adapters/environment.ts';
import { UnenforcedUsagePlans } from '#shared/adapters/unenforced-usage-plans.ts';

/** The account function's usage plans follow the front door (LATCHKEY_API_FLAVOR). */
describe('usagePlansFromEnv', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('reads REST\'s usage plans on its stage by default: enforced', () => {
    // Prepare
    vi.stubEnv(ENV.apiFlavor, '');
    vi.stubEnv(ENV.restApiId, 'a1b2c3d4e5');
    vi.stubEnv(ENV.stageName, 'prod');

    // Act
    const plans = usagePlansFromEnv();

    // Assess
    expect(plans).toBeInstanceOf(ApiGatewayUsagePlans);
    expect(plans.enforced).toBe(true);
  });

  it('has none on HTTP API, and needs no REST API to say so: not enforced', () => {
    // Prepare
    vi.stubEnv(ENV.apiFlavor, 'http');
    vi.stubEnv(ENV.restApiId, '');
    vi.stubEnv(ENV.httpApiId, 'lsw1ro4ipb');

    // Act
    const plans = usagePlansFromEnv();

    // Assess
    expect(plans).toBeInstanceOf(UnenforcedUsagePlans);
    expect(plans.enforced).toBe(false);
  });
});
