import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PAGE_SIZE, MAX_BODY_BYTES, MAX_PAGE_SIZE } from '#shared/http/schemas.ts';
import { USAGE as ADMIN_USAGE } from '#admin/options.ts';
import { DEFAULT_LIMITS, ENV, MAX_KEYS_PER_USER, MAX_RULES_PER_KEY } from '#shared/adapters/environment.ts';
import { formatAccountKey, formatUserKey, ACCOUNT_KEY_PATTERN, USER_KEY_PATTERN } from '#shared/domain/key-format.ts';
import { newId } from '#shared/domain/ids.ts';
import { PUBLIC_ROUTE_THROTTLE, ROUTES, type Route, isPublicRoute } from '#shared/http/routes.ts';

/** The README and docs/ are part of the product: route table, key patterns and limits must match the code. */
const readme = readFileSync('README.md', 'utf8');
const DOC_PAGES = readdirSync('docs').filter((name) => name.endsWith('.md')).map((name) => path.join('docs', name));
const doc = (page: string): string => readFileSync(page, 'utf8');

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

  it('states the limits the code enforces (docs/configuration.md, docs/key-lifecycle.md)', () => {
    const limits = doc('docs/configuration.md');
    expect(limits).toContain(`| user keys per user | ${DEFAULT_LIMITS.keysPerUser} (at most ${MAX_KEYS_PER_USER}) |`);
    expect(limits).toContain(`| CIDR rules per key | ${DEFAULT_LIMITS.rulesPerKey} (at most ${MAX_RULES_PER_KEY}) |`);
    expect(limits).toContain(`| request body | ${MAX_BODY_BYTES / 1024} KiB (413 beyond) |`);
    expect(limits).toContain(`| page size | ${DEFAULT_PAGE_SIZE}, at most ${MAX_PAGE_SIZE} |`);
    expect(doc('docs/key-lifecycle.md')).toContain(
      `${PUBLIC_ROUTE_THROTTLE.rateLimit} requests per second, burst ${PUBLIC_ROUTE_THROTTLE.burstLimit}, for all callers together`,
    );
  });

  it('lists every environment variable the functions read (docs/configuration.md)', () => {
    const configuration = doc('docs/configuration.md');
    for (const name of Object.values(ENV)) expect(configuration, name).toContain(`\`${name}\``);
  });

  it('shows only admin commands that exist (docs/admin-cli.md), and every one there is', () => {
    const shown = new Set([...doc('docs/admin-cli.md').matchAll(/npm run admin -- ([a-z][a-z-]+)/g)].map((m) => m[1]));
    const listed = new Set([...ADMIN_USAGE.matchAll(/^ {2}([a-z][a-z-]+)(?= |$)/gm)].map((m) => m[1]).filter((name) => name !== 'local'));
    expect([...shown].sort()).toEqual([...listed].sort());
  });

  it('names only npm scripts that exist, in the README and every docs page', () => {
    const scripts = Object.keys((JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts);
    const named = [readme, ...DOC_PAGES.map(doc)].flatMap((text) => [...text.matchAll(/npm run ([a-z:-]+)|`npm (start|test)\b/g)].map((m) => m[1] ?? m[2]));
    expect(named).toContain('admin');
    for (const name of new Set(named)) expect(scripts, `npm ${name ?? ''}`).toContain(name);
  });

  it('stays short: what it is, the quickstart, the walkthrough, the route table and links', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(300);
    expect(DOC_PAGES.length).toBeGreaterThanOrEqual(6);
  });
});

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = fenced ? undefined : /^#{1,6} (.+)$/.exec(line)?.[1];
    if (heading !== undefined) anchors.add(heading.toLowerCase().replace(/[^a-z0-9 _-]/g, '').replaceAll(' ', '-'));
  }
  return anchors;
}

describe('links between the README and docs/', () => {
  it.each(['README.md', ...DOC_PAGES])('every relative link of %s names a file that exists, and a heading in it', (page) => {
    const text = doc(page);
    const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '').filter((target) => !/^[a-z]+:/.test(target));
    for (const link of links) {
      const [file = '', anchor] = link.split('#');
      const target = file === '' ? page : path.join(path.dirname(page), file);
      expect(existsSync(target), `${page}: ${link}`).toBe(true);
      if (anchor !== undefined && anchor !== '' && target.endsWith('.md')) expect(anchorsOf(doc(target)), `${page}: ${link}`).toContain(anchor);
    }
  });
});
