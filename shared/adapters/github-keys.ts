import type { GitHubKeySource } from '../ports/github-keys.ts';

/** Where GitHub serves the public keys that sign its secret scanning alerts; overridden by `LATCHKEY_GITHUB_KEYS_URL`. */
export const GITHUB_KEYS_URL_ENV = 'LATCHKEY_GITHUB_KEYS_URL';
export const DEFAULT_GITHUB_KEYS_URL = 'https://api.github.com/meta/public_keys/secret_scanning';

/** An identifier not among the cached keys fetches the list again at most this often: alerts naming made-up identifiers cost no more. */
export const GITHUB_KEYS_REFETCH_INTERVAL_MS = 60_000;
/** The key list is small (a few PEM keys); anything far larger is not it. */
const MAX_KEYS_DOCUMENT_BYTES = 64 * 1024;
const FETCH_TIMEOUT_MS = 3_000;

export interface GitHubKeysOptions {
  /** @default LATCHKEY_GITHUB_KEYS_URL, else GitHub's own list */
  readonly url?: string;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Milliseconds, for the refetch interval. @default Date.now */
  readonly clock?: () => number;
}

/**
 * GitHub's secret scanning public keys, fetched on first use and kept for the container's life
 * (a retired key does no harm while cached). An identifier the cache lacks (a key GitHub rotated
 * in) fetches the list again, but at most once a minute; a failed fetch counts, so an
 * unreachable list is not asked on every alert.
 */
export class GitHubPublicKeys implements GitHubKeySource {
  readonly #url: string;
  readonly #fetch: typeof fetch;
  readonly #clock: () => number;
  #keys = new Map<string, string>();
  #firstFetchStarted = false;
  #refetchedAt: number | undefined;
  #inFlight: Promise<void> | undefined;

  constructor(options: GitHubKeysOptions = {}) {
    this.#url = options.url ?? githubKeysUrlFromEnv();
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#clock = options.clock ?? Date.now;
  }

  async publicKey(identifier: string): Promise<string | undefined> {
    const cached = this.#keys.get(identifier);
    if (cached !== undefined) return cached;
    if (this.#inFlight === undefined) {
      if (this.#firstFetchStarted) {
        const refetchedAt = this.#refetchedAt;
        if (refetchedAt !== undefined && this.#clock() - refetchedAt < GITHUB_KEYS_REFETCH_INTERVAL_MS) return undefined;
        this.#refetchedAt = this.#clock();
      }
      this.#firstFetchStarted = true;
    }
    // Alerts arriving together share one fetch.
    this.#inFlight ??= this.#refresh().finally(() => {
      this.#inFlight = undefined;
    });
    await this.#inFlight;
    return this.#keys.get(identifier);
  }

  async #refresh(): Promise<void> {
    const response = await this.#fetch(this.#url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`the GitHub public keys answered ${response.status}`);
    const text = await response.text();
    if (text.length > MAX_KEYS_DOCUMENT_BYTES) throw new Error('the GitHub public keys document is too large');
    this.#keys = parseKeys(JSON.parse(text));
  }
}

export function githubKeysUrlFromEnv(): string {
  const configured = process.env[GITHUB_KEYS_URL_ENV];
  return configured === undefined || configured === '' ? DEFAULT_GITHUB_KEYS_URL : configured;
}

/** `{"public_keys":[{"key_identifier","key","is_current"}]}`: each PEM key by its identifier; anything else is skipped. */
function parseKeys(document: unknown): Map<string, string> {
  const keys = new Map<string, string>();
  const list: unknown = typeof document === 'object' && document !== null ? (document as Record<string, unknown>).public_keys : undefined;
  if (!Array.isArray(list)) throw new Error('the GitHub public keys document has no public_keys list');
  for (const entry of list as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { key_identifier: identifier, key } = entry as Record<string, unknown>;
    if (typeof identifier === 'string' && typeof key === 'string' && key.includes('BEGIN PUBLIC KEY')) keys.set(identifier, key);
  }
  return keys;
}
