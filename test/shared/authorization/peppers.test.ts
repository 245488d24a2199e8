import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyDigest } from '#shared/domain/hashing.ts';
import { createPepperProvider, ensurePepper, rotatePepper } from '#shared/authorization/peppers.ts';
import type { PepperStore, StoredPepper } from '#shared/ports/pepper-store.ts';
import type { Secrets } from '#shared/ports/secrets.ts';

const USER_KEY = 'lks_AcCt0123456789ZzKeY0abcdefghijkl0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg0B4vWj';

/** An in-memory pepper table that, like the real one, refuses a second copy of a version. */
class InMemoryPepperStore implements PepperStore {
  readonly peppers: StoredPepper[] = [];
  listCalls = 0;
  failNextList: Error | undefined;

  listPeppers(): Promise<readonly StoredPepper[]> {
    this.listCalls += 1;
    const failure = this.failNextList;
    this.failNextList = undefined;
    return failure === undefined ? Promise.resolve([...this.peppers]) : Promise.reject(failure);
  }

  addPepper(pepper: StoredPepper): Promise<boolean> {
    if (this.peppers.some((p) => p.version === pepper.version)) return Promise.resolve(false);
    this.peppers.push(pepper);
    return Promise.resolve(true);
  }
}

/**
 * Stands in for KMS: ciphertexts are random handles, and a ciphertext decrypts only under
 * the version it was generated for (as KMS's encryption context binds them).
 */
class InMemorySecrets implements Secrets {
  readonly #plaintexts = new Map<string, { version: number; plaintext: Uint8Array }>();
  generateCalls: number[] = [];
  decryptCalls: number[] = [];
  failNextDecrypt: Error | undefined;

  generatePepper(version: number): Promise<Uint8Array> {
    this.generateCalls.push(version);
    const ciphertext = randomBytes(48);
    this.#plaintexts.set(ciphertext.toString('hex'), { version, plaintext: randomBytes(32) });
    return Promise.resolve(ciphertext);
  }

  decryptPepper(version: number, ciphertext: Uint8Array): Promise<Uint8Array> {
    this.decryptCalls.push(version);
    const failure = this.failNextDecrypt;
    this.failNextDecrypt = undefined;
    if (failure !== undefined) return Promise.reject(failure);
    const entry = this.#plaintexts.get(Buffer.from(ciphertext).toString('hex'));
    if (entry?.version !== version) return Promise.reject(new Error('InvalidCiphertextException'));
    return Promise.resolve(entry.plaintext);
  }

  plaintextOf(ciphertext: Uint8Array): Uint8Array {
    const entry = this.#plaintexts.get(Buffer.from(ciphertext).toString('hex'));
    if (entry === undefined) throw new Error('unknown ciphertext');
    return entry.plaintext;
  }

  encryptAccountKey(): Promise<Uint8Array> {
    return Promise.reject(new Error('not used by the pepper provider'));
  }

  decryptAccountKey(): Promise<string> {
    return Promise.reject(new Error('not used by the pepper provider'));
  }
}

async function provisioned(versions: number): Promise<{ store: InMemoryPepperStore; secrets: InMemorySecrets }> {
  const store = new InMemoryPepperStore();
  const secrets = new InMemorySecrets();
  for (let version = 1; version <= versions; version += 1) {
    await store.addPepper({ version, ciphertext: await secrets.generatePepper(version) });
  }
  secrets.generateCalls = [];
  return { store, secrets };
}

describe('createPepperProvider', () => {
  it('loads and decrypts once per container, however often and concurrently it is asked', async () => {
    // Prepare
    const { store, secrets } = await provisioned(2);
    const provide = createPepperProvider(store, secrets);

    // Act
    const [a, b] = await Promise.all([provide(), provide()]);
    const c = await provide();

    // Assess
    expect(store.listCalls).toBe(1);
    expect([...secrets.decryptCalls].sort()).toEqual([1, 2]);
    expect(b).toBe(a);
    expect(c).toBe(a);
  });

  it('gives a ring of the decrypted peppers, newest current', async () => {
    // Prepare
    const { store, secrets } = await provisioned(2);
    const [v1, v2] = store.peppers;

    // Act
    const ring = await createPepperProvider(store, secrets)();

    // Assess
    expect(ring.current.version).toBe(2);
    expect(ring.get(1)).toEqual(secrets.plaintextOf(v1!.ciphertext));
    expect(ring.get(2)).toEqual(secrets.plaintextOf(v2!.ciphertext));
    expect(ring.verify(USER_KEY, keyDigest(secrets.plaintextOf(v1!.ciphertext), USER_KEY), 1)).toBe(true);
  });

  it('does not cache a failed read: the next call tries again', async () => {
    // Prepare
    const { store, secrets } = await provisioned(1);
    store.failNextList = new Error('ProvisionedThroughputExceededException');
    const provide = createPepperProvider(store, secrets);

    // Act
    const first = provide();
    const concurrent = provide();
    await expect(first).rejects.toThrow('ProvisionedThroughputExceededException');
    await expect(concurrent).rejects.toThrow('ProvisionedThroughputExceededException');
    const ring = await provide();

    // Assess
    expect(ring.current.version).toBe(1);
    expect(store.listCalls).toBe(2);
  });

  it('does not cache a failed decryption: the next call tries again', async () => {
    // Prepare
    const { store, secrets } = await provisioned(1);
    secrets.failNextDecrypt = new Error('KMS throttled');
    const provide = createPepperProvider(store, secrets);

    // Act
    await expect(provide()).rejects.toThrow('KMS throttled');
    const ring = await provide();

    // Assess
    expect(ring.current.version).toBe(1);
    expect(secrets.decryptCalls).toEqual([1, 1]);
  });

  it('fails while no pepper is provisioned, and succeeds once one is', async () => {
    // Prepare
    const { store, secrets } = await provisioned(0);
    const provide = createPepperProvider(store, secrets);

    // Act / Assess
    await expect(provide()).rejects.toThrow(/no pepper/);
    await ensurePepper(store, secrets);
    expect((await provide()).current.version).toBe(1);
  });
});

describe('ensurePepper', () => {
  it('creates version 1 on an empty table', async () => {
    // Prepare
    const { store, secrets } = await provisioned(0);

    // Act
    const version = await ensurePepper(store, secrets);

    // Assess
    expect(version).toBe(1);
    expect(secrets.generateCalls).toEqual([1]);
    expect(store.peppers.map((p) => p.version)).toEqual([1]);
  });

  it('creates nothing when a pepper exists, and reports the newest version', async () => {
    // Prepare
    const { store, secrets } = await provisioned(3);

    // Act
    const version = await ensurePepper(store, secrets);

    // Assess
    expect(version).toBe(3);
    expect(secrets.generateCalls).toEqual([]);
    expect(store.peppers).toHaveLength(3);
  });

  it('is idempotent', async () => {
    const { store, secrets } = await provisioned(0);
    expect(await ensurePepper(store, secrets)).toBe(1);
    expect(await ensurePepper(store, secrets)).toBe(1);
    expect(secrets.generateCalls).toEqual([1]);
    expect(store.peppers).toHaveLength(1);
  });

  it('leaves exactly one version 1 when run concurrently', async () => {
    const { store, secrets } = await provisioned(0);
    const versions = await Promise.all([ensurePepper(store, secrets), ensurePepper(store, secrets)]);
    expect(versions).toEqual([1, 1]);
    expect(store.peppers.map((p) => p.version)).toEqual([1]);
  });
});

describe('rotatePepper', () => {
  it('adds the next version; new digests use it and old ones keep verifying', async () => {
    // Prepare: a key digested before the rotation
    const { store, secrets } = await provisioned(1);
    const before = await createPepperProvider(store, secrets)();
    const stored = before.digest(USER_KEY);

    // Act
    const version = await rotatePepper(store, secrets);
    const after = await createPepperProvider(store, secrets)();

    // Assess
    expect(version).toBe(2);
    expect(secrets.generateCalls).toEqual([2]);
    expect(store.peppers.map((p) => p.version)).toEqual([1, 2]);
    expect(after.current.version).toBe(2);
    expect(after.digest(USER_KEY).pepperVersion).toBe(2);
    expect(after.verify(USER_KEY, stored.hash, stored.pepperVersion)).toBe(true);
    expect(after.verify(USER_KEY, stored.hash, 2)).toBe(false);
  });

  it('starts at version 1 on an empty table', async () => {
    const { store, secrets } = await provisioned(0);
    expect(await rotatePepper(store, secrets)).toBe(1);
  });

  it('refuses to report success when another writer took the version', async () => {
    // Prepare: the store answers from a stale listing, as it would when a concurrent rotation wins
    const { store, secrets } = await provisioned(1);
    const stale: PepperStore = {
      listPeppers: () => Promise.resolve([]),
      addPepper: (pepper) => store.addPepper(pepper),
    };

    // Act / Assess
    await expect(rotatePepper(stale, secrets)).rejects.toThrow(/concurrently/);
    expect(store.peppers).toHaveLength(1);
  });
});
