import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalApp } from '#local/process/app.ts';
import { LocalSecrets } from '#local/storage/local-secrets.ts';
import { PUBLIC_ROUTE_THROTTLE } from '#shared/http/routes.ts';
import { ANSWERS, FLAVORS } from './flavors.ts';
import { call, createUserWithKey, ownerKeys, startApi, type RunningApi } from './support.ts';

/**
 * The leak-report route's own throttle in the local runtime, over real HTTP: the deployed
 * stage's method throttle (5 requests per second, burst 10, for every caller together; on HTTP
 * API the route throttle of the same numbers), answered as each front door answers it. The
 * gateway's clock is the test's, so "within the burst" and "after the refill" are exact
 * whatever the machine's load.
 */

describe.each(FLAVORS)('behind the %s front door', (flavor) => {
  const answers = ANSWERS[flavor];

  let api: RunningApi;
  let clock = Date.now();
  /** DynamoDB calls the runtime has made so far. */
  let dynamoDbCalls = 0;

  beforeAll(async () => {
    api = await startApi({ flavor, publicRouteThrottle: PUBLIC_ROUTE_THROTTLE, now: () => new Date(clock) });
    api.raw.middlewareStack.add(
      (next) => (args) => {
        dynamoDbCalls += 1;
        return next(args);
      },
      { step: 'initialize' },
    );
  });

  afterAll(async () => {
    await api.close();
  });

  function report(keys: readonly string[], from = '127.0.0.1'): ReturnType<typeof call> {
    return call(api.port, '/v1/leaked-keys', { method: 'POST', body: { keys }, from });
  }

  describe('POST /v1/leaked-keys in the local runtime', () => {
    it('defaults to the deployed throttle: one constant for both', () => {
      const app = createLocalApp({
        documentClient: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
        tableName: 'unused',
        secrets: new LocalSecrets(randomBytes(32)),
      });

      expect(app.publicRouteThrottle.limits).toEqual({ rateLimit: 5, burstLimit: 10 });
      expect(app.publicRouteThrottle.limits).toBe(PUBLIC_ROUTE_THROTTLE);
    });

    it("answers the gateway's 429 past the burst, for every caller together, without any I/O; after the refill it serves again", async () => {
      // Prepare: a valid key in the reports, so that a report that got through would show.
      const holder = await createUserWithKey(api, 'viewer');
      const owner = ownerKeys(api);
      const eventsBefore = (await call(api.port, '/v1/logs?limit=100', { keys: owner })).json.items as { action: string }[];

      // Act: the burst, from two addresses (the throttle is not per caller), all at one instant.
      const burst: number[] = [];
      for (let i = 0; i < PUBLIC_ROUTE_THROTTLE.burstLimit; i += 1) burst.push((await report(['not-a-key'], i % 2 === 0 ? '127.0.0.1' : '127.0.0.2')).status);
      const callsBefore = dynamoDbCalls;
      const over = await report([holder.keys.userKey], '127.0.0.3');
      const callsOver = dynamoDbCalls - callsBefore;
      const stillOver = await report(['not-a-key']);
      // One token back at 5 a second.
      clock += 1000 / PUBLIC_ROUTE_THROTTLE.rateLimit;
      const refilled = await report(['not-a-key']);
      const spent = await report(['not-a-key']);
      clock += 1000;
      const afterASecond: number[] = [];
      for (let i = 0; i < PUBLIC_ROUTE_THROTTLE.rateLimit + 1; i += 1) afterASecond.push((await report(['not-a-key'])).status);

      // Assess
      expect(burst).toEqual(Array.from({ length: 10 }, () => 202));
      expect(over.status).toBe(answers.throttled.status);
      expect(over.json).toEqual(answers.throttled.body);
      expect(over.headers['x-amzn-errortype']).toBe(answers.throttled.errorType);
      expect(over.headers['content-type']).toBe('application/json');
      expect(callsOver).toBe(0);
      expect(stillOver.status).toBe(429);
      expect([refilled.status, spent.status]).toEqual([202, 429]);
      expect(afterASecond).toEqual([202, 202, 202, 202, 202, 429]);
      // The throttled report of a valid key did nothing: the key works, and nothing was audited.
      expect((await call(api.port, '/v1/whoami', { keys: holder.keys })).status).toBe(200);
      const eventsAfter = (await call(api.port, '/v1/logs?limit=100', { keys: owner })).json.items as { action: string }[];
      expect(eventsAfter).toEqual(eventsBefore);
    });
  });
});
