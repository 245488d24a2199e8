import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_GITHUB_KEYS_URL, GITHUB_KEYS_REFETCH_INTERVAL_MS, GitHubPublicKeys } from '#shared/adapters/github-keys.ts';

/** GitHub's key list, fetched once and again only for an identifier it lacks, at most once a minute (on a fake clock). */

const PEM_A = '-----BEGIN PUBLIC KEY-----\nA\n-----END PUBLIC KEY-----\n';
const PEM_B = '-----BEGIN PUBLIC KEY-----\nB\n-----END PUBLIC KEY-----\n';

function keyList(keys: Readonly<Record<string, string>>): string {
  return JSON.stringify({ public_keys: Object.entries(keys).map(([key_identifier, key]) => ({ key_identifier, key, is_current: true })) });
}

/** A fake endpoint serving whatever `served` holds at the time of each fetch. */
function fakeEndpoint(initial: Readonly<Record<string, string>>): { fetch: typeof fetch; urls: string[]; served: Record<string, string>; status: number } {
  const endpoint = {
    urls: [] as string[],
    served: { ...initial },
    status: 200,
    fetch: ((input: string) => {
      endpoint.urls.push(input);
      return Promise.resolve(new Response(keyList(endpoint.served), { status: endpoint.status }));
    }) as typeof fetch,
  };
  return endpoint;
}

describe('GitHub public keys', () => {
  it('fetches on first use and serves known identifiers from the cache', async () => {
    // Prepare
    const endpoint = fakeEndpoint({ a: PEM_A });
    const keys = new GitHubPublicKeys({ url: 'http://keys.test/list', fetch: endpoint.fetch, clock: () => 0 });

    // Act
    const found = [await keys.publicKey('a'), await keys.publicKey('a'), await keys.publicKey('a')];

    // Assess
    expect(found).toEqual([PEM_A, PEM_A, PEM_A]);
    expect(endpoint.urls).toEqual(['http://keys.test/list']);
  });

  it('fetches again for an unknown identifier at most once a minute, and finds a key rotated in', async () => {
    // Prepare
    let now = 1_000_000;
    const endpoint = fakeEndpoint({ a: PEM_A });
    const keys = new GitHubPublicKeys({ url: 'http://keys.test/list', fetch: endpoint.fetch, clock: () => now });
    await keys.publicKey('a');

    // Act
    const unknown = await keys.publicKey('b');
    endpoint.served = { a: PEM_A, b: PEM_B };
    now += GITHUB_KEYS_REFETCH_INTERVAL_MS - 1;
    const withinTheMinute = await keys.publicKey('b');
    const fetchesWithinTheMinute = endpoint.urls.length;
    now += 1;
    const afterTheMinute = await keys.publicKey('b');

    // Assess
    expect(unknown).toBeUndefined();
    expect(withinTheMinute).toBeUndefined();
    expect(fetchesWithinTheMinute).toBe(2);
    expect(afterTheMinute).toBe(PEM_B);
    expect(endpoint.urls).toHaveLength(3);
  });

  it('shares one fetch between alerts arriving together', async () => {
    // Prepare
    const endpoint = fakeEndpoint({ a: PEM_A });
    const keys = new GitHubPublicKeys({ url: 'http://keys.test/list', fetch: endpoint.fetch, clock: () => 0 });

    // Act
    const found = await Promise.all([keys.publicKey('a'), keys.publicKey('a'), keys.publicKey('a')]);

    // Assess
    expect(found).toEqual([PEM_A, PEM_A, PEM_A]);
    expect(endpoint.urls).toHaveLength(1);
  });

  it('counts a failed fetch, so an unreachable list is not asked on every alert', async () => {
    // Prepare
    const endpoint = fakeEndpoint({ a: PEM_A });
    endpoint.status = 503;
    const keys = new GitHubPublicKeys({ url: 'http://keys.test/list', fetch: endpoint.fetch, clock: () => 0 });

    // Act
    const first = keys.publicKey('a');
    await expect(first).rejects.toThrow(/503/);
    await expect(keys.publicKey('a')).rejects.toThrow(/503/);
    const third = await keys.publicKey('a');

    // Assess: the first fetch, one refetch, then nothing within the minute.
    expect(third).toBeUndefined();
    expect(endpoint.urls).toHaveLength(2);
  });

  it("reads GitHub's own list unless LATCHKEY_GITHUB_KEYS_URL names another", async () => {
    // Prepare
    const endpoint = fakeEndpoint({ a: PEM_A });
    vi.stubEnv('LATCHKEY_GITHUB_KEYS_URL', '');

    // Act
    try {
      await new GitHubPublicKeys({ fetch: endpoint.fetch }).publicKey('a');
    } finally {
      vi.unstubAllEnvs();
    }

    // Assess
    expect(endpoint.urls).toEqual([DEFAULT_GITHUB_KEYS_URL]);
  });
});
