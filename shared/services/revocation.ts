import { ConflictError, NotFoundError, RoleCannotHoldKeysError, StalePrincipalError, ValidationError } from '../domain/errors.ts';
import type { ApiDeps } from '../deps.ts';

/**
 * Runs a write that can take access away, then flushes the authorizer cache so that no cached
 * Allow outlives it. A refusal (one of the domain's errors) wrote nothing and flushes nothing.
 * Any other failure may have come after the write committed, its answer lost on the way back,
 * so it flushes too: the caller sees a 500, but the change it may have made still takes effect
 * at once.
 */
export async function withAuthorizerCacheFlush<T>(deps: Pick<ApiDeps, 'authorizerCache' | 'logger'>, write: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await write();
  } catch (error) {
    if (!isRefusal(error)) {
      try {
        await deps.authorizerCache.flush();
      } catch (flushError) {
        deps.logger.error('could not flush the authorizer cache after a failed write', { error: flushError });
      }
    }
    throw error;
  }
  await deps.authorizerCache.flush();
  return result;
}

function isRefusal(error: unknown): boolean {
  return (
    error instanceof ValidationError ||
    error instanceof NotFoundError ||
    error instanceof ConflictError ||
    error instanceof RoleCannotHoldKeysError ||
    error instanceof StalePrincipalError
  );
}
