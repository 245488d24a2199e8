import { describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR, auditEvent } from '#shared/domain/audit.ts';
import { formatAccountKey, formatUserKey } from '#shared/domain/key-format.ts';
import { AuditEventView } from '#shared/http/schemas.ts';
import { assertNoSecrets, signalOf } from '#shared/services/signals.ts';

const ACCOUNT_ID = 'a'.repeat(16);
const KEY_ID = 'k'.repeat(16);

describe('signalOf', () => {
  it('is the action and the event as the API shows it, plus its account', () => {
    const event = auditEvent(ACCOUNT_ID, { userId: 'u'.repeat(16), keyId: KEY_ID, sourceIp: '203.0.113.7' }, 'api-key.create', `api-key/${KEY_ID}`, new Date('2026-01-02T03:04:05.000Z'));
    const signal = signalOf(event);
    expect(signal.type).toBe('api-key.create');
    const { accountId, ...view } = signal.data;
    expect(accountId).toBe(ACCOUNT_ID);
    expect(AuditEventView.parse(view)).toEqual({
      id: event.id,
      time: '2026-01-02T03:04:05.000Z',
      action: 'api-key.create',
      actor: { userId: 'u'.repeat(16), keyId: KEY_ID },
      target: `api-key/${KEY_ID}`,
      sourceIp: '203.0.113.7',
    });
  });

  it("carries a key's permissions as the event set them, in the API's shape", () => {
    const event = {
      ...auditEvent(ACCOUNT_ID, SYSTEM_ACTOR, 'api-key.update', `api-key/${KEY_ID}`, new Date()),
      permissions: { before: ['logs:read', 'subscriptions:write'], after: null },
    };
    const { accountId: _accountId, ...view } = signalOf(event).data;
    expect(AuditEventView.parse(view).permissions).toEqual({ before: ['logs:read', 'subscriptions:write'], after: null });
  });

  it('leaves the presented secrets behind', () => {
    const event = auditEvent(
      ACCOUNT_ID,
      { userId: null, keyId: KEY_ID, sourceIp: null, presentedSecrets: { accountKey: 'tag-of-account-key', userKey: 'tag-of-user-key' } },
      'account-key.reveal',
      `account/${ACCOUNT_ID}`,
      new Date(),
    );
    const body = JSON.stringify(signalOf(event));
    expect(body).not.toContain('tag-of');
    expect(body).not.toMatch(/presented|secret/i);
  });

  it('refuses an event that would carry a key', () => {
    const withAccountKey = auditEvent(ACCOUNT_ID, SYSTEM_ACTOR, 'api-key.create', formatAccountKey(ACCOUNT_ID), new Date());
    expect(() => signalOf(withAccountKey)).toThrow(/holds a key/);
    const withUserKey = auditEvent(ACCOUNT_ID, SYSTEM_ACTOR, 'api-key.create', `api-key/${formatUserKey(ACCOUNT_ID, KEY_ID)}`, new Date());
    expect(() => signalOf(withUserKey)).toThrow(/holds a key/);
  });

  it('refuses fields named like secrets, however deep', () => {
    expect(() => { assertNoSecrets({ actor: { secretHash: 'x' } }); }).toThrow(/data\.actor\.secretHash/);
    expect(() => { assertNoSecrets({ digest: 'x' }); }).toThrow();
    expect(() => { assertNoSecrets({ target: 'api-key/x', action: 'a' }); }).not.toThrow();
  });
});
