import type * as z from 'zod/mini';
import type { OperationId } from './routes.ts';
import { ACCOUNT_SCHEMAS } from './schemas/account.ts';
import { API_KEYS_SCHEMAS } from './schemas/api-keys.ts';
import { CIDR_ALLOW_LIST_SCHEMAS } from './schemas/cidr-allow-list.ts';
import type { OperationSchemas } from './schemas/common.ts';
import { LEAKED_KEYS_SCHEMAS } from './schemas/leaked-keys.ts';
import { LOGS_SCHEMAS } from './schemas/logs.ts';
import { USERS_SCHEMAS } from './schemas/users.ts';
import { WHOAMI_SCHEMAS } from './schemas/whoami.ts';

/**
 * Request and response schemas of every operation in the route table, keyed by operationId:
 * the whole API, for the OpenAPI document (generated from them, so the contract and the
 * behaviour cannot drift apart), the local runtime and the tests. Each Lambda function takes
 * only its own group's schemas (`schemas/<group>.ts`), never this module, so that its bundle
 * does not build every route's schemas at load; the types below are the ones the operations
 * are written against, and cost no bundle anything.
 */

export { API_COMPONENTS, MAX_BODY_BYTES, type OperationSchemas } from './schemas/common.ts';
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './schemas/paging.ts';
export { Problem, ProblemFieldError } from './schemas/problem.ts';
export { MAX_GRACE_PERIOD_SECONDS } from './schemas/rolls.ts';
export { MAX_LEAKED_KEYS, MAX_LEAKED_KEY_LENGTH } from './schemas/leaked-keys.ts';
export { AuditEventView } from './schemas/logs.ts';

export const API_SCHEMAS = {
  ...WHOAMI_SCHEMAS,
  ...ACCOUNT_SCHEMAS,
  ...USERS_SCHEMAS,
  ...API_KEYS_SCHEMAS,
  ...CIDR_ALLOW_LIST_SCHEMAS,
  ...LOGS_SCHEMAS,
  ...LEAKED_KEYS_SCHEMAS,
} as const satisfies Record<OperationId, OperationSchemas>;

type Schemas = typeof API_SCHEMAS;
type Part<K extends OperationId, P extends keyof OperationSchemas> = Schemas[K] extends { readonly [Q in P]: infer S extends z.ZodMiniType }
  ? z.output<S>
  : undefined;

export type ParamsOf<K extends OperationId> = Part<K, 'params'>;
export type QueryOf<K extends OperationId> = Part<K, 'query'>;
export type BodyOf<K extends OperationId> = Part<K, 'body'>;
export type ResponseOf<K extends OperationId> = Part<K, 'response'>;

export function schemasOf(operationId: OperationId): OperationSchemas {
  return API_SCHEMAS[operationId];
}
