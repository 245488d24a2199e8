import * as z from 'zod/mini';
import { API_COMPONENTS, type GroupSchemas, Id, Timestamp } from './common.ts';
import { Cursor, Limit, NextCursor } from './paging.ts';

export const AuditEventView = z
  .strictObject({
    id: Id,
    time: Timestamp,
    action: z.string().check(z.describe('e.g. `api-key.create`, `cidr-rule.delete`, `account-key.reveal`')),
    actor: z.strictObject({ userId: z.nullable(Id), keyId: z.nullable(Id) }),
    target: z.string().check(z.describe('e.g. `api-key/<id>`')),
    sourceIp: z.nullable(z.string()),
    permissions: z.optional(
      z
        .strictObject({
          before: z.optional(z.nullable(z.array(z.string()))).check(z.describe('The list the key had (api-key.update only)')),
          after: z.nullable(z.array(z.string())).check(z.describe('The list the key got')),
        })
        .check(z.describe("Only on events that set a key's permissions (api-key.create, api-key.update); null = unrestricted")),
    ),
  })
  .register(API_COMPONENTS, { id: 'AuditEvent' });

const AuditEventListView = z
  .strictObject({ items: z.array(AuditEventView), nextCursor: NextCursor })
  .register(API_COMPONENTS, { id: 'AuditEventList' });

export const LOGS_SCHEMAS = {
  listEvents: {
    query: z.strictObject({ limit: Limit, cursor: Cursor }),
    response: AuditEventListView,
  },
} as const satisfies GroupSchemas<'logs'>;
