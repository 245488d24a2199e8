import { describe, expect, it } from 'vitest';
import { type StreamImage, type TableChange, narrowsAccess } from '#shared/adapters/dynamodb/narrowing.ts';

/** Which changes of the table cost a flush of the authorizer cache: each narrowing rule, and what is exempt. */

const PK = { S: 'ACCOUNT#A1' };
const names = (...permissions: string[]) => ({ L: permissions.map((permission) => ({ S: permission })) });
const rules = (...cidrs: string[]) => ({ L: cidrs.map((cidr, i) => ({ M: { id: { S: `R${i}` }, cidr: { S: cidr }, createdAt: { S: '2026-01-01T00:00:00Z' } } })) });

const KEY: StreamImage = {
  pk: PK,
  sk: { S: 'KEY#K1' },
  userId: { S: 'U1' },
  role: { S: 'owner' },
  secretHash: { B: new Uint8Array([1, 2, 3]) },
  pepperVersion: { N: '1' },
  rules: rules('192.0.2.0/24'),
  cidrs: { SS: ['192.0.2.0/24'] },
  rev: { N: '3' },
  name: { S: 'key-name-one' },
};
const META: StreamImage = { pk: PK, sk: { S: 'META' }, apiEnabled: { BOOL: true }, accountKeyHash: { B: new Uint8Array([9]) }, ownerCount: { N: '2' } };
const USER: StreamImage = { pk: PK, sk: { S: 'USER#U1' }, role: { S: 'owner' }, keyCount: { N: '1' }, rev: { N: '1' } };

const modify = (oldImage: StreamImage, changes: Record<string, unknown>): TableChange => {
  const merged = Object.entries({ ...oldImage, ...changes }).filter(([, value]) => value !== undefined);
  return { eventName: 'MODIFY', oldImage, newImage: Object.fromEntries(merged) as StreamImage };
};
/** What DigestUpgrader writes: the digest under the next pepper version, and the digest it replaced. */
const upgrade = (oldImage: StreamImage, hash: string, version: string, marker: string): TableChange =>
  modify(oldImage, { [hash]: { B: new Uint8Array([42, ...(oldImage[hash]?.B as Uint8Array)]) }, [version]: { N: String(Number(oldImage[version]?.N ?? '1') + 1) }, [marker]: oldImage[hash] });
const keyUpgrade = upgrade(KEY, 'secretHash', 'pepperVersion', 'secretHashUpgradedFrom');
const upgradedKey: StreamImage = keyUpgrade.newImage ?? KEY;
const accountKeyUpgrade = upgrade({ ...META, accountKeyPepperVersion: { N: '1' } }, 'accountKeyHash', 'accountKeyPepperVersion', 'accountKeyHashUpgradedFrom');
const remove = (oldImage: StreamImage): TableChange => ({ eventName: 'REMOVE', keys: { pk: oldImage.pk ?? PK, sk: oldImage.sk ?? { S: '' } }, oldImage });
const insert = (newImage: StreamImage): TableChange => ({ eventName: 'INSERT', newImage });

describe('narrowsAccess: changes that must flush', () => {
  it.each<[string, TableChange]>([
    ['a key deleted (or expired by TTL)', remove(KEY)],
    ["a key's digest changed (rolled)", modify(KEY, { secretHash: { B: new Uint8Array([4]) } })],
    ["a key's pepper version changed", modify(KEY, { pepperVersion: { N: '2' } })],
    ["a key's role copy changed", modify(KEY, { role: { S: 'viewer' } })],
    ['a key moved to another user', modify(KEY, { userId: { S: 'U2' } })],
    ['a rule edited', modify(KEY, { rules: rules('198.51.100.0/24'), cidrs: { SS: ['198.51.100.0/24'] } })],
    ['a rule removed while others remain', { ...modify({ ...KEY, rules: rules('192.0.2.0/24', '198.51.100.0/24') }, { rules: rules('192.0.2.0/24') }) }],
    ['a first rule added to an empty list (all addresses -> some)', modify({ ...KEY, rules: rules() }, { rules: rules('192.0.2.0/24') })],
    // Widenings too: the refusal of an address outside the old list is a cached explicit Deny.
    ['a rule added to a non-empty list', modify(KEY, { rules: rules('192.0.2.0/24', '198.51.100.0/24'), cidrs: { SS: ['192.0.2.0/24', '198.51.100.0/24'] } })],
    ['the last rule removed (some addresses -> all)', modify(KEY, { rules: rules(), cidrs: undefined })],
    // A key's permissions (DESIGN 14), both ways: a widening must not wait out a cached refusal.
    ['an unrestricted key restricted', modify(KEY, { permissions: names('logs:read') })],
    ["a key's permissions narrowed", modify({ ...KEY, permissions: names('logs:read', 'widgets:read') }, { permissions: names('logs:read') })],
    ["a key's permissions widened", modify({ ...KEY, permissions: names('logs:read') }, { permissions: names('logs:read', 'widgets:read') })],
    ["a key's restriction lifted", modify({ ...KEY, permissions: names('logs:read') }, { permissions: undefined })],
    ["a key's permissions changed with a digest upgrade", modify(upgradedKey, { permissions: names('logs:read') })],
    ['an attribute the decision does not know (when unsure, flush)', modify(KEY, { expiresAt: { N: '1767225600' } })],
    ['the API switched off', modify(META, { apiEnabled: { BOOL: false } })],
    ["the account key's digest changed (rolled)", modify(META, { accountKeyHash: { B: new Uint8Array([7]) } })],
    ['an account removed', remove(META)],
    ["a user's role changed", modify(USER, { role: { S: 'viewer' } })],
    ['a user removed', remove(USER)],
    ['a pepper removed', remove({ pk: { S: 'CONFIG' }, sk: { S: 'PEPPER#1' }, version: { N: '1' } })],
    ['an item of a kind the decision does not know', modify({ pk: PK, sk: { S: 'SOMETHING#1' }, a: { S: 'x' } }, { a: { S: 'y' } })],
    ['a change without its images (a stream without NEW_AND_OLD_IMAGES)', { eventName: 'MODIFY', keys: { pk: PK, sk: { S: 'KEY#K1' } } }],
  ])('%s', (_name, change) => {
    expect(narrowsAccess(change)).toBe(true);
  });
});

describe('narrowsAccess: changes that need no flush', () => {
  it.each<[string, TableChange]>([
    ['a key created', insert(KEY)],
    ['lastUsedAt stamped', modify(KEY, { lastUsedAt: { S: '2026-01-02T00:00:00Z' } })],
    ['the same digest, as the Lambda event carries it (base64)', modify(KEY, { secretHash: { B: Buffer.from([1, 2, 3]).toString('base64') } })],
    ['the API switched on', modify({ ...META, apiEnabled: { BOOL: false } }, { apiEnabled: { BOOL: true } })],
    ['the owner count moved', modify(META, { ownerCount: { N: '3' } })],
    ['a user renamed, or given a key', modify(USER, { keyCount: { N: '2' }, rev: { N: '2' } })],
    ['an audit event written or expired', remove({ pk: PK, sk: { S: 'EVENT#2026-01-01T00:00:00Z#E1' } })],
    ['a key name reserved or freed', remove({ pk: PK, sk: { S: 'KEYNAME#key-name-one' } })],
    ['a pepper added', insert({ pk: { S: 'CONFIG' }, sk: { S: 'PEPPER#2' }, version: { N: '2' } })],
    ['the account key flagged by a leak report', modify(META, { accountKeyLeakReportedAt: { S: '2026-01-02T00:00:00.000Z' } })],
    ["a key's digest upgraded to a newer pepper", keyUpgrade],
    ["the account key's digest upgraded to a newer pepper", accountKeyUpgrade],
    ['a second upgrade, over the marker of the first', upgrade(upgradedKey, 'secretHash', 'pepperVersion', 'secretHashUpgradedFrom')],
    ["a restricted key's use stamped, its list unchanged", modify({ ...KEY, permissions: names('logs:read') }, { lastUsedAt: { S: '2026-01-02T00:00:00Z' } })],
  ])('%s', (_name, change) => {
    expect(narrowsAccess(change)).toBe(false);
  });
});

describe('narrowsAccess: a digest upgrade is told from a roll by the digest it names, never by the images alone', () => {
  it.each<[string, TableChange]>([
    // A roll with no grace under the newest pepper: the same attributes change, the marker does not.
    ['a roll after an upgrade (the marker left from the upgrade)', modify(upgradedKey, { secretHash: { B: new Uint8Array([8]) }, pepperVersion: { N: '3' } })],
    ['a roll without any upgrade before', modify(KEY, { secretHash: { B: new Uint8Array([8]) }, pepperVersion: { N: '2' } })],
    ['a marker that names another digest', modify(KEY, { secretHash: { B: new Uint8Array([8]) }, pepperVersion: { N: '2' }, secretHashUpgradedFrom: { B: new Uint8Array([5]) } })],
    ['a marker with the pepper version unchanged', modify(KEY, { secretHash: { B: new Uint8Array([8]) }, secretHashUpgradedFrom: KEY.secretHash })],
    ['a marker with the pepper version lowered', modify({ ...KEY, pepperVersion: { N: '2' } }, { secretHash: { B: new Uint8Array([8]) }, pepperVersion: { N: '1' }, secretHashUpgradedFrom: KEY.secretHash })],
    ['an upgrade together with a narrowing change (the key moved to another user)', { ...keyUpgrade, newImage: { ...upgradedKey, userId: { S: 'U2' } } }],
    ['the account key rolled after an upgrade', modify(accountKeyUpgrade.newImage ?? META, { accountKeyHash: { B: new Uint8Array([8]) }, accountKeyPepperVersion: { N: '3' } })],
  ])('%s flushes', (_name, change) => {
    expect(narrowsAccess(change)).toBe(true);
  });
});

describe("narrowsAccess: the revocation flusher's own ledger", () => {
  it('never counts a write of the flush ledger, which would make every flush call for another', () => {
    const ledger: StreamImage = { pk: { S: 'FLUSH-LEDGER' }, sk: { S: 'STAGE#a1b2c3#prod' }, attempts: { N: '1' }, nextAttemptAt: { N: '1000' } };
    expect(narrowsAccess({ eventName: 'INSERT', newImage: ledger })).toBe(false);
    expect(narrowsAccess(modify(ledger, { attempts: { N: '2' }, succeeded: { N: '2' } }))).toBe(false);
  });
});
