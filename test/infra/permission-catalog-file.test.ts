import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundledPermissionCatalog } from '#functions/commons/permission-catalog-file.ts';
import { writePermissionCatalog } from '#infra/constructs/permission-catalog-file.ts';
import { MANAGEMENT_PERMISSION_CATALOG, PERMISSION_CATALOG_DIRECTORY, PERMISSION_CATALOG_FILE, buildPermissionCatalog } from '#shared/http/permission-catalog.ts';
import { resolveDownstreamRoutes } from '#shared/http/team-routes.ts';
import { realisticRoutes } from '#test/support/route-sets.ts';

/**
 * The permission list (GET /v1/permissions, and what a key may be restricted to) travels in the
 * bundles of the whoami and api-keys functions: written at synth, read once per container.
 */

describe('writePermissionCatalog and bundledPermissionCatalog', () => {
  it('hand a function the whole catalog, for 300 team routes too (the Lambda environment could not hold it)', () => {
    // Prepare
    const routes = resolveDownstreamRoutes(realisticRoutes(300));

    // Act
    const written = writePermissionCatalog(routes);
    // As LatchkeyFunction's bundledDirectory copies it beside the handler.
    const bundle = mkdtempSync(path.join(tmpdir(), 'latchkey-bundle-'));
    const copied = path.join(bundle, written.to);
    const contents = readFileSync(path.join(written.from, PERMISSION_CATALOG_FILE), 'utf8');
    cpSync(written.from, copied, { recursive: true });

    // Assess
    expect(written.to).toBe(PERMISSION_CATALOG_DIRECTORY);
    expect(contents.length).toBeGreaterThan(4 * 1024);
    expect(bundledPermissionCatalog(bundle)).toEqual(buildPermissionCatalog(routes));
    rmSync(written.from, { recursive: true, force: true });
    rmSync(bundle, { recursive: true, force: true });
  });

  it("knows the management routes' permissions alone in a bundle without the file (a restriction to a team route's is then refused)", () => {
    const bundle = mkdtempSync(path.join(tmpdir(), 'latchkey-bundle-'));
    expect(bundledPermissionCatalog(bundle)).toEqual(MANAGEMENT_PERMISSION_CATALOG);
    rmSync(bundle, { recursive: true, force: true });
  });
});
