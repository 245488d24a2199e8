import { PepperRing } from '../domain/hashing.ts';
import type { PepperStore } from '../ports/pepper-store.ts';
import type { Secrets } from '../ports/secrets.ts';

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

/**
 * How old a container's ring may get before the next call reads the pepper list again: after
 * `rotate-pepper`, every container digests new keys with the newest pepper within this time
 * (plus one request). A refresh costs one Query of the pepper partition, and a KMS Decrypt for
 * a version the container has not seen; none per request in between.
 */
export const PEPPER_RING_MAX_AGE_SECONDS = 300;

export interface PepperProviderOptions {
  /** @default PEPPER_RING_MAX_AGE_SECONDS */
  readonly maxAgeSeconds?: number;
  /** Milliseconds since the epoch. @default Date.now */
  readonly now?: () => number;
}

export function createPepperProvider(store: PepperStore, secrets: Secrets, options: PepperProviderOptions = {}): PepperProvider {
  const maxAgeMs = (options.maxAgeSeconds ?? PEPPER_RING_MAX_AGE_SECONDS) * 1000;
  const clock = options.now ?? Date.now;
  // Decrypted once per version and container: a refresh pays KMS only for a new version.
  const decrypted = new Map<number, Uint8Array>();
  let ring: Promise<PepperRing> | undefined;
  let loadedAt = 0;
  let refreshing = false;
  /** `fallback`: the ring to keep if the reload fails (a refresh); without it the failure propagates (fail closed). */
  const reload = (fallback?: PepperRing): Promise<PepperRing> => {
    const startedAt = clock();
    const loading = load(store, secrets, decrypted).then(
      (loaded) => {
        loadedAt = startedAt;
        return loaded;
      },
      (error: unknown) => {
        if (fallback !== undefined) {
          // The ring held still verifies every digest it verified; try again after another period.
          loadedAt = startedAt;
          return fallback;
        }
        if (ring === loading) ring = undefined;
        throw error;
      },
    );
    ring = loading;
    return loading;
  };
  return async (minVersion) => {
    let current = await (ring ?? reload());
    if (!refreshing && clock() - loadedAt >= maxAgeMs) {
      refreshing = true;
      try {
        current = await reload(current);
      } finally {
        refreshing = false;
      }
    }
    if (minVersion === undefined || current.current.version >= minVersion) return current;
    const pending = ring;
    // Another caller may already have started the reload this one needs.
    return pending !== undefined && (await pending).current.version >= minVersion ? pending : reload();
  };
}

async function load(store: PepperStore, secrets: Secrets, decrypted: Map<number, Uint8Array>): Promise<PepperRing> {
  const stored = await store.listPeppers();
  if (stored.length === 0) throw new Error('no pepper is provisioned: deploy the stack (or start the local runtime) first');
  const peppers = await Promise.all(
    stored.map(async (p) => {
      const secret = decrypted.get(p.version) ?? (await secrets.decryptPepper(p.version, p.ciphertext));
      decrypted.set(p.version, secret);
      return { version: p.version, secret };
    }),
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
