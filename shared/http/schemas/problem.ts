import * as z from 'zod/mini';
import { API_COMPONENTS } from './common.ts';

/**
 * The shape of every refusal the handlers answer with. Only the OpenAPI document builds it: the
 * handlers write problems themselves (functions/commons/problems.ts) and take its type alone.
 */

export const ProblemFieldError = z
  .strictObject({ field: z.string(), rule: z.string(), message: z.string() })
  .register(API_COMPONENTS, { id: 'FieldError' });

/** RFC 9457 problem details. */
export const Problem = z
  .strictObject({
    type: z.string().check(z.describe('A URN naming the kind of problem')),
    title: z.string(),
    status: z.int().check(z.gte(100), z.lte(599)),
    detail: z.string(),
    instance: z.optional(z.string()).check(z.describe('The request path')),
    requestId: z.optional(z.string()).check(z.describe('Quote it when reporting a problem')),
    errors: z.optional(z.array(ProblemFieldError)).check(z.describe('Each field that broke a rule (validation problems only)')),
  })
  .register(API_COMPONENTS, { id: 'Problem' });
