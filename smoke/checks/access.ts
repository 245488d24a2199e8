import { stringField } from '../http-client.ts';
import { describeAnswer } from '../report.ts';
import { SetupError, type MadeKey } from '../cleanup.ts';
import { pollLimitMs, pollUntil, whoami, type Caller, type SmokeContext } from './context.ts';

/**
 * Who gets in: both keys are required, the owner's keys work, a viewer reads but cannot write,
 * and a CIDR rule that leaves out the caller's address refuses them.
 */

export async function checkBothKeysRequired(context: SmokeContext): Promise<void> {
  const { client, owner, report } = context;
  report.expectStatus('no keys: 401', await client.request('/v1/whoami'), 401);
  report.expectStatus('the account key alone: 401', await client.request('/v1/whoami', { keys: { accountKey: owner.accountKey } }), 401);
  report.expectStatus('the user key alone: 401', await client.request('/v1/whoami', { keys: { userKey: owner.userKey } }), 401);
}

/** The owner's whoami; the address it reports is the one the CIDR check must leave out. */
export async function checkOwnerWhoami(context: SmokeContext): Promise<Caller> {
  const answer = await whoami(context, context.owner);
  const caller: Caller = {
    accountId: stringField(answer, 'accountId'),
    userId: stringField(answer, 'userId'),
    sourceIp: stringField(answer, 'sourceIp'),
  };
  const name = "the owner's whoami: 200";
  if (answer.status !== 200) context.report.fail(name, `expected 200, saw ${describeAnswer(answer)}`);
  else if (stringField(answer, 'role') !== 'owner') context.report.fail(name, `200, but the role is not owner: ${describeAnswer(answer)}`);
  else if (caller.sourceIp === undefined) context.report.fail(name, `200, but no sourceIp: ${describeAnswer(answer)}`);
  else context.report.pass(name, `source address ${caller.sourceIp}`);
  return caller;
}

/** A viewer reads (200) and is refused a write (403); the write's body is invalid, so nothing is made should it get through. */
export async function checkViewer(context: SmokeContext, viewer: MadeKey): Promise<void> {
  const keys = { accountKey: context.owner.accountKey, userKey: viewer.secret };
  context.report.expectStatus("a viewer's read (GET /v1/users): 200", await context.client.request('/v1/users', { keys }), 200);
  const write = await context.client.request('/v1/users', { method: 'POST', keys, body: {} });
  context.report.expectStatus("a viewer's write (POST /v1/users): 403", write, 403);
}

/**
 * A key restricted to `api-keys:read` (DESIGN 14) reads the keys (200) and is refused the users,
 * which its holder's role may read (403): the deployed authorizer holds a key to its list.
 */
export async function checkRestrictedKey(context: SmokeContext, viewerUserId: string): Promise<void> {
  const key = await context.ledger.key(viewerUserId, ['api-keys:read']);
  const keys = { accountKey: context.owner.accountKey, userKey: key.secret };
  context.report.expectStatus('a key restricted to api-keys:read reads the keys (GET /v1/api-keys): 200', await context.client.request('/v1/api-keys', { keys }), 200);
  context.report.expectStatus('the same key is refused the users (GET /v1/users): 403', await context.client.request('/v1/users', { keys }), 403);
}

/** A documentation range (RFC 5737, RFC 3849) that does not hold `address`: no real caller is in it. */
export function cidrExcluding(address: string): string {
  if (address.includes(':')) return address.toLowerCase().startsWith('2001:db8:') ? '3fff::/20' : '2001:db8::/32';
  return address.startsWith('192.0.2.') ? '198.51.100.0/24' : '192.0.2.0/24';
}

/** A viewer's new key, never used, with one CIDR rule that leaves out the caller's address. */
export async function fencedKey(context: SmokeContext, viewerUserId: string, sourceIp: string): Promise<{ key: MadeKey; ruleId: string }> {
  const key = await context.ledger.key(viewerUserId);
  const answer = await context.client.request(`/v1/api-keys/${encodeURIComponent(key.id)}/cidr-allow-list`, {
    method: 'POST',
    keys: context.owner,
    body: { cidr: cidrExcluding(sourceIp) },
  });
  const ruleId = stringField(answer, 'id');
  if (answer.status !== 201 || ruleId === undefined) throw new SetupError(`the owner could not add a CIDR rule (${describeAnswer(answer)})`);
  return { key, ruleId };
}

/**
 * A rule that leaves the caller out refuses the key's first request (403, no cached decision to
 * wait for); deleting the rule lets it in again, looked for within the revocation bound.
 */
export async function checkCidrRule(context: SmokeContext, viewerUserId: string, caller: Caller): Promise<void> {
  const { report } = context;
  const refused = 'a CIDR rule that leaves out the caller refuses at once: 403';
  const restored = 'deleting that rule restores access: 200';
  if (caller.sourceIp === undefined) {
    report.fail(refused, "not run: the owner's whoami told no source address");
    report.fail(restored, 'not run');
    return;
  }
  const { key, ruleId } = await fencedKey(context, viewerUserId, caller.sourceIp);
  const keys = { accountKey: context.owner.accountKey, userKey: key.secret };
  const first = await whoami(context, keys);
  report.expectStatus(refused, first, 403);
  const deleted = await context.client.request(`/v1/api-keys/${encodeURIComponent(key.id)}/cidr-allow-list/${encodeURIComponent(ruleId)}`, {
    method: 'DELETE',
    keys: context.owner,
  });
  if (deleted.status !== 204) {
    report.fail(restored, `deleting the rule: expected 204, saw ${describeAnswer(deleted)}`);
    return;
  }
  const since = performance.now();
  const outcome = await pollUntil(() => whoami(context, keys), (answer) => answer.status === 200, since, pollLimitMs(context));
  if (!outcome.reached) report.fail(restored, `still ${describeAnswer(outcome.last)} ${outcome.elapsedMs} ms after the delete`);
  else if (outcome.elapsedMs > context.revocationBoundMs) report.fail(restored, `200 only after ${outcome.elapsedMs} ms (bound ${context.revocationBoundMs} ms)`);
  else report.pass(restored, `after ${outcome.elapsedMs} ms`);
}
