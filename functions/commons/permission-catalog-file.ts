import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PermissionCatalog } from '#shared/domain/key-permissions.ts';
import {
  MANAGEMENT_PERMISSION_CATALOG,
  PERMISSION_CATALOG_DIRECTORY,
  PERMISSION_CATALOG_FILE,
  parsePermissionCatalog,
} from '#shared/http/permission-catalog.ts';

/**
 * This deployment's permissions, from the file the stack put beside the bundled handler
 * (infra/constructs/latchkey-api.ts), read once per container. A bundle without the file (a
 * function built outside LatchkeyApi) knows the management routes' permissions alone: a key
 * can then not be restricted to a team route's, which refuses rather than grants.
 */
export function bundledPermissionCatalog(bundleDirectory = path.dirname(fileURLToPath(import.meta.url))): PermissionCatalog {
  let text: string;
  try {
    text = readFileSync(path.join(bundleDirectory, PERMISSION_CATALOG_DIRECTORY, PERMISSION_CATALOG_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return MANAGEMENT_PERMISSION_CATALOG;
    throw error;
  }
  return parsePermissionCatalog(JSON.parse(text));
}
