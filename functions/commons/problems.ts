import type { APIGatewayProxyResult } from 'aws-lambda';
import type * as z from 'zod/mini';
import {
  ConflictError,
  LimitExceededError,
  NotFoundError,
  PermissionEscalationError,
  PermissionNotGrantedError,
  RoleCannotHoldKeysError,
  StalePrincipalError,
  ValidationError,
} from '#shared/domain/errors.ts';
import type { Problem, ProblemFieldError } from '#shared/http/schemas.ts';

/** RFC 9457 problem documents: every error response of the management API is one. */
export type ProblemDocument = z.output<typeof Problem>;
export type FieldError = z.output<typeof ProblemFieldError>;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Each kind of problem the API answers with, its status and the stable `type` clients can match on. */
export const PROBLEM_KINDS = {
  validation: { status: 400, title: 'Invalid request' },
  'malformed-json': { status: 400, title: 'Malformed JSON' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Forbidden' },
  'not-found': { status: 404, title: 'Not found' },
  conflict: { status: 409, title: 'Conflict' },
  'limit-exceeded': { status: 409, title: 'Limit exceeded' },
  'content-too-large': { status: 413, title: 'Content too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'role-cannot-hold-keys': { status: 422, title: 'Role cannot hold API keys' },
  'permission-not-granted': { status: 422, title: "Permission not granted by the holder's role" },
  internal: { status: 500, title: 'Internal server error' },
} as const;
export type ProblemKind = keyof typeof PROBLEM_KINDS;

export function problemType(kind: ProblemKind): string {
  return `urn:latchkey:problem:${kind}`;
}

/** A refusal decided at the HTTP layer (content type, size, role, parsing), before any use case runs. */
export class HttpProblemError extends Error {
  readonly kind: ProblemKind;
  readonly errors: readonly FieldError[] | undefined;

  constructor(kind: ProblemKind, detail: string, errors?: readonly FieldError[], options?: ErrorOptions) {
    super(detail, options);
    this.name = 'HttpProblemError';
    this.kind = kind;
    this.errors = errors;
  }
}

export interface ProblemContext {
  readonly instance: string | undefined;
  readonly requestId: string | undefined;
}

/**
 * The problem document for an error, or undefined for a fault. Domain errors are mapped by
 * class; their messages are written for the caller. A fault's message may carry internals
 * (table names, SDK details), so it never reaches a response.
 */
export function problemFor(error: unknown): { kind: ProblemKind; detail: string; errors?: readonly FieldError[] | undefined } | undefined {
  if (error instanceof HttpProblemError) return { kind: error.kind, detail: error.message, errors: error.errors };
  if (error instanceof ValidationError) {
    return { kind: 'validation', detail: error.message, errors: [{ field: error.field, rule: error.rule, message: error.message }] };
  }
  if (error instanceof NotFoundError) return { kind: 'not-found', detail: error.message };
  if (error instanceof LimitExceededError) return { kind: 'limit-exceeded', detail: error.message };
  if (error instanceof ConflictError) return { kind: 'conflict', detail: error.message };
  if (error instanceof RoleCannotHoldKeysError) return { kind: 'role-cannot-hold-keys', detail: error.message };
  if (error instanceof PermissionNotGrantedError) {
    return { kind: 'permission-not-granted', detail: error.message, errors: [{ field: 'permissions', rule: 'granted-by-role', message: error.message }] };
  }
  if (error instanceof PermissionEscalationError) return { kind: 'forbidden', detail: error.message };
  if (error instanceof StalePrincipalError) return { kind: 'unauthorized', detail: error.message };
  return undefined;
}

export const FAULT_DETAIL = 'The request could not be completed. If this persists, report it with the request id.';

export function problemResponse(
  kind: ProblemKind,
  detail: string,
  context: ProblemContext,
  errors?: readonly FieldError[],
): APIGatewayProxyResult {
  const { status, title } = PROBLEM_KINDS[kind];
  const document: ProblemDocument = {
    type: problemType(kind),
    title,
    status,
    detail,
    ...(context.instance === undefined ? {} : { instance: context.instance }),
    ...(context.requestId === undefined ? {} : { requestId: context.requestId }),
    ...(errors === undefined ? {} : { errors: [...errors] }),
  };
  return {
    statusCode: status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' },
    body: JSON.stringify(document),
  };
}

/**
 * A request without a principal answers exactly as API Gateway answers an unauthenticated
 * one, so that a client sees one shape of 401 whichever layer refused it.
 */
export function unauthorizedResponse(): APIGatewayProxyResult {
  return {
    statusCode: 401,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' },
    body: JSON.stringify({ message: 'Unauthorized' }),
  };
}
