import * as z from 'zod';
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
    type: z.string().describe('A URN naming the kind of problem'),
    title: z.string(),
    status: z.int().min(100).max(599),
    detail: z.string(),
    instance: z.string().optional().describe('The request path'),
    requestId: z.string().optional().describe('Quote it when reporting a problem'),
    errors: z.array(ProblemFieldError).optional().describe('Each field that broke a rule (validation problems only)'),
  })
  .register(API_COMPONENTS, { id: 'Problem' });
