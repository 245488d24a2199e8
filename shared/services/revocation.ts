import { ConflictError, NotFoundError, PermissionNotGrantedError, RoleCannotHoldKeysError, StalePrincipalError, ValidationError } from '../domain/errors.ts';
import type { ApiDeps } from '../ports/deps.ts';
import type { AuthorizerCache } from '../ports/authorizer-cache.ts';

/**
 * Runs a write that can take access away, then asks for the authorizer cache to be flushed at
 * once as a shortcut. The shortcut is best effort: revocation does not rest on it. Every
 * committed change reaches the table's stream, and the revocation flusher (the flusher
 * function on AWS, the stream poller locally; see revocation-flusher.ts) flushes within the
 * documented bound, retrying until it succeeds. So a committed change answers success even if
 * the shortcut fails, and a change whose answer was lost (a 500) is flushed all the same.
 *
 * A refusal (one of the domain's errors) wrote nothing and asks for nothing.
 */
export async function withAuthorizerCacheFlush<T>(deps: Pick<ApiDeps, 'authorizerCache' | 'logger'>, write: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await write();
  } catch (error) {
    if (!isRefusal(error)) await flushShortcut(deps);
    throw error;
  }
  await flushShortcut(deps);
  return result;
}

/** The immediate flush alone, best effort, for a use case that learns only as it goes whether it narrowed anything. */
export async function flushShortcut(deps: Pick<ApiDeps, 'authorizerCache' | 'logger'>): Promise<void> {
  try {
    await deps.authorizerCache.flush();
  } catch (error) {
    deps.logger.warn('the immediate authorizer cache flush failed; the table stream flushes instead', { error });
  }
}

/**
 * The handlers' AuthorizerCache on AWS: no immediate call. API Gateway's management calls
 * share one account-wide budget (10 per second); the flusher function alone spends it, at
 * most once per window, so that no tenant's burst of changes can throttle another's revocation.
 */
export const FLUSHED_BY_STREAM: AuthorizerCache = { flush: () => Promise.resolve() };

function isRefusal(error: unknown): boolean {
  return (
    error instanceof ValidationError ||
    error instanceof NotFoundError ||
    error instanceof ConflictError ||
    error instanceof RoleCannotHoldKeysError ||
    error instanceof PermissionNotGrantedError ||
    error instanceof StalePrincipalError
  );
}
