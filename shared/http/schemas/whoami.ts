import * as z from 'zod/mini';
import { KEY_ROLES } from '../../domain/roles.ts';
import { API_COMPONENTS, type GroupSchemas, Id } from './common.ts';
import { PermissionListView } from './permissions.ts';

export const WhoAmIView = z
  .strictObject({ accountId: Id, userId: Id, role: z.enum(KEY_ROLES), keyId: Id, sourceIp: z.string() })
  .register(API_COMPONENTS, { id: 'WhoAmI' });

export const WHOAMI_SCHEMAS = {
  whoami: { response: WhoAmIView },
  listPermissions: { response: PermissionListView },
} as const satisfies GroupSchemas<'whoami'>;
