import * as z from 'zod/mini';
import { en } from 'zod/locales';
import type { FunctionGroup, OperationIdOf } from '../routes.ts';

/**
 * What every group's schemas build on. Objects are strict: an unknown field in a request is
 * refused (a misspelt field would otherwise be silently ignored), and an unexpected field in a
 * response is a fault rather than a leak. Each group's schemas sit in their own file so that a
 * function's bundle builds only its own routes' schemas at load.
 *
 * They are written in zod's light API (`zod/mini`): the same schemas and JSON Schema as the
 * classic API, without the classic methods that keep every schema kind's code in a bundle.
 */

// The light API has no default language; the refusals quote zod's English messages where a
// schema gives none (a query's empty `cursor`), as they did with the classic API.
z.config(en());

/** Named schemas: the OpenAPI document's `components.schemas`. */
export const API_COMPONENTS = z.registry<{ id: string }>();

export const Id = z.string().check(z.regex(/^[0-9A-Za-z]{16}$/, 'must be a 16-character id'), z.describe('16 base62 characters'));
export const Timestamp = z.iso.datetime().check(z.describe('ISO 8601, UTC')).register(API_COMPONENTS, { id: 'Timestamp' });

/** Bodies are tiny; anything larger is refused before it is parsed. */
export const MAX_BODY_BYTES = 16 * 1024;

export const KeyIdParams = z.strictObject({ keyId: Id });

export interface OperationSchemas {
  readonly params?: z.ZodMiniObject;
  readonly query?: z.ZodMiniObject;
  /** An object, or a list where the caller's format is fixed by someone else (GitHub's alerts). */
  readonly body?: z.ZodMiniObject | z.ZodMiniArray;
  /** Absent for 204 No Content. */
  readonly response?: z.ZodMiniType;
  /**
   * The domain refusals the operation can answer with, beyond those every route can (400, 401,
   * 403, 500) and those of a route with a body (413, 415): documented in the OpenAPI document.
   * 401 is for a route that needs no keys but checks a signature of its own.
   */
  readonly refusals?: readonly (401 | 404 | 409 | 422)[];
}

/** The schemas of one function group's operations, keyed by operationId: exactly its routes. */
export type GroupSchemas<G extends FunctionGroup> = { readonly [K in OperationIdOf<G>]: OperationSchemas };
