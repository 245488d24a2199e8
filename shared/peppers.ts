import { PepperRing } from './domain/hashing.ts';
import type { PepperStore, Secrets } from './ports.ts';

/**
 * Returns the container's pepper ring, loading and decrypting it on first use only: one
 * DynamoDB read and one KMS Decrypt per pepper version per cold start, none per request.
 * A failed load is not cached, so the next request tries again (and until then nothing is
 * authorized: the caller fails closed).
 *
 * `minVersion` is the newest pepper version the caller has met in a stored digest. After a
 * rotation, a warm container's ring lacks the new version; asking for it reloads the ring
 * once (concurrent callers share that reload) instead of refusing every new key until the
 * container is recycled.
 */
export type PepperProvider = (minVersion?: number) => Promise<PepperRing>;

export function createPepperProvider(store: PepperStore, secrets: Secrets): PepperProvider {
  let ring: Promise<PepperRing> | undefined;
  const reload = (): Promise<PepperRing> => {
    const loading = load(store, secrets).catch((error: unknown) => {
      if (ring === loading) ring = undefined;
      throw error;
    });
    ring = loading;
    return loading;
  };
  return async (minVersion) => {
    const current = await (ring ?? reload());
    if (minVersion === undefined || current.current.version >= minVersion) return current;
    const pending = ring;
    // Another caller may already have started the reload this one needs.
    return pending !== undefined && (await pending).current.version >= minVersion ? pending : reload();
  };
}

async function load(store: PepperStore, secrets: Secrets): Promise<PepperRing> {
  const stored = await store.listPeppers();
  if (stored.length === 0) throw new Error('no pepper is provisioned: deploy the stack (or start the local runtime) first');
  const peppers = await Promise.all(
    stored.map(async (p) => ({ version: p.version, secret: await secrets.decryptPepper(p.version, p.ciphertext) })),
  );
  return new PepperRing(peppers);
}

/**
 * Makes sure a pepper exists (version 1 on a new table); run once at deploy time by a custom
 * resource and at start by the local runtime. Safe to run concurrently: the store refuses a
 * second version 1.
 */
export async function ensurePepper(store: PepperStore, secrets: Secrets): Promise<number> {
  const stored = await store.listPeppers();
  const newest = stored.reduce((max, p) => Math.max(max, p.version), 0);
  if (newest > 0) return newest;
  await store.addPepper({ version: 1, ciphertext: await secrets.generatePepper(1) });
  return 1;
}

/** Adds the next pepper version; new digests use it, old ones keep verifying with theirs. */
export async function rotatePepper(store: PepperStore, secrets: Secrets): Promise<number> {
  const stored = await store.listPeppers();
  const next = stored.reduce((max, p) => Math.max(max, p.version), 0) + 1;
  if (!(await store.addPepper({ version: next, ciphertext: await secrets.generatePepper(next) }))) {
    throw new Error(`pepper version ${next} was added concurrently; run the rotation again`);
  }
  return next;
}
