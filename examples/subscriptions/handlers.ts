import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { type LatchkeyContext, latchkeyPrincipal } from '#functions/principal.ts';
import * as store from './store.ts';

/**
 * Redis Cloud's subscriptions, reduced to their shape: each account sees and changes only its
 * own. Who the caller is comes from the Latchkey principal; which role may call which route
 * is declared in routes.ts and enforced by the gateway before these handlers run.
 */

const PROVIDERS = ['AWS', 'GCP', 'Azure'] as const;
const ID = /^[0-9a-f-]{36}$/;

function json(statusCode: number, body: unknown): APIGatewayProxyResult {
  return { statusCode, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: JSON.stringify(body) };
}

function problem(statusCode: number, title: string, detail: string): APIGatewayProxyResult {
  return { statusCode, headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store' }, body: JSON.stringify({ title, status: statusCode, detail }) };
}

type Handler = (event: APIGatewayProxyEvent, context: LatchkeyContext) => Promise<APIGatewayProxyResult>;

function route(handler: Handler) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, LatchkeyContext>().use(httpHeaderNormalizer()).use(latchkeyPrincipal()).handler(handler);
}

function parseCreate(body: string | null): { name: string; cloudProvider: store.Subscription['cloudProvider'] } | string {
  let value: unknown;
  try {
    value = JSON.parse(body ?? '');
  } catch {
    return 'the body must be JSON';
  }
  if (typeof value !== 'object' || value === null) return 'the body must be an object';
  const { name, cloudProvider = 'AWS' } = value as Record<string, unknown>;
  if (typeof name !== 'string' || name.trim() === '' || name.length > 100) return 'name: 1 to 100 characters';
  if (!(PROVIDERS as readonly unknown[]).includes(cloudProvider)) return `cloudProvider: one of ${PROVIDERS.join(', ')}`;
  return { name: name.trim(), cloudProvider: cloudProvider as store.Subscription['cloudProvider'] };
}

export const listSubscriptions = route(async (_event, { principal }) => json(200, { subscriptions: await store.listSubscriptions(principal.accountId) }));

export const createSubscription = route(async (event, { principal }) => {
  const input = parseCreate(event.body);
  if (typeof input === 'string') return problem(400, 'Invalid request', input);
  return json(201, await store.createSubscription(principal.accountId, input));
});

export const getSubscription = route(async (event, { principal }) => {
  const id = event.pathParameters?.subscriptionId ?? '';
  const found = ID.test(id) ? await store.getSubscription(principal.accountId, id) : undefined;
  return found === undefined ? problem(404, 'Not found', 'no such subscription in this account') : json(200, found);
});

export const deleteSubscription = route(async (event, { principal }) => {
  const id = event.pathParameters?.subscriptionId ?? '';
  const removed = ID.test(id) && (await store.deleteSubscription(principal.accountId, id));
  return removed ? { statusCode: 204, headers: { 'cache-control': 'no-store' }, body: '' } : problem(404, 'Not found', 'no such subscription in this account');
});
