import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PAGE_SIZE, MAX_BODY_BYTES, MAX_PAGE_SIZE } from '#shared/api-schemas.ts';
import { DEFAULT_LIMITS, MAX_KEYS_PER_USER, MAX_RULES_PER_KEY } from '#shared/config.ts';
import { formatAccountKey, formatUserKey, ACCOUNT_KEY_PATTERN, USER_KEY_PATTERN } from '#shared/domain/key-format.ts';
import { newId } from '#shared/domain/ids.ts';
import { PUBLIC_ROUTE_THROTTLE, ROUTES, type Route, isPublicRoute } from '#shared/routes.ts';

/** The README is part of the product: its route table, key patterns and limits must match the code. */
const readme = readFileSync('README.md', 'utf8');

function section(name: string): string {
  const found = new RegExp(`<!-- ${name}:start -->([\\s\\S]*?)<!-- ${name}:end -->`).exec(readme)?.[1];
  if (found === undefined) throw new Error(`README.md has no ${name} section`);
  return found;
}

describe('README', () => {
  it('lists exactly the routes of the route table, with their roles and success codes', () => {
    // Prepare
    const rows = section('routes')
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .map((line) => {
        const cells = line.split('|').map((cell) => cell.trim());
        return { route: (cells[1] ?? '').replaceAll('`', ''), roles: cells[2], status: Number(cells[3]) };
      });

    // Assess
    // A route that needs no keys says so in the roles column.
    const roles = (r: Route): string => (isPublicRoute(r) ? 'anyone, no keys' : r.roles.join(', '));
    expect(rows).toEqual(ROUTES.map((r) => ({ route: `${r.method} ${r.path}`, roles: roles(r), status: r.status })));
  });

  it('gives secret scanners patterns that match real keys and nothing shorter', () => {
    // Prepare
    const [accountPattern, userPattern] = section('patterns')
      .split('\n')
      .filter((line) => line.startsWith('lk'))
      .map((line) => new RegExp(`^${line}$`));
    const accountKey = formatAccountKey(newId());
    const userKey = formatUserKey(newId(), newId());

    // Assess
    expect(accountPattern?.test(accountKey)).toBe(true);
    expect(userPattern?.test(userKey)).toBe(true);
    expect(accountPattern?.test(accountKey.slice(0, -1))).toBe(false);
    expect(userPattern?.test(userKey.slice(0, -1))).toBe(false);
    expect(accountPattern?.source.slice(1, -1)).toBe(ACCOUNT_KEY_PATTERN.source.replaceAll('\\b', ''));
    expect(userPattern?.source.slice(1, -1)).toBe(USER_KEY_PATTERN.source.replaceAll('\\b', ''));
  });

  it('states the limits the code enforces', () => {
    expect(readme).toContain(`| user keys per user | ${DEFAULT_LIMITS.keysPerUser} (at most ${MAX_KEYS_PER_USER}) |`);
    expect(readme).toContain(`| CIDR rules per key | ${DEFAULT_LIMITS.rulesPerKey} (at most ${MAX_RULES_PER_KEY}) |`);
    expect(readme).toContain(`| request body | ${MAX_BODY_BYTES / 1024} KiB (413 beyond) |`);
    expect(readme).toContain(`| page size | ${DEFAULT_PAGE_SIZE}, at most ${MAX_PAGE_SIZE} |`);
    expect(readme).toContain(`${PUBLIC_ROUTE_THROTTLE.rateLimit} requests per second, burst ${PUBLIC_ROUTE_THROTTLE.burstLimit}, for all callers together`);
  });

  it('names only npm scripts that exist', () => {
    const scripts = Object.keys((JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts);
    const named = [...readme.matchAll(/npm run ([a-z:-]+)|`npm (start|test)\b/g)].map((m) => m[1] ?? m[2]);
    expect(named).toContain('admin');
    for (const name of new Set(named)) expect(scripts, `npm ${name ?? ''}`).toContain(name);
  });
});
