import type { BodyOf, ParamsOf, QueryOf, ResponseOf } from '#shared/http/schemas.ts';
import type { GroupSchemas } from '#shared/http/schemas/common.ts';
import type { Actor } from '#shared/domain/audit.ts';
import type { ApiDeps } from '#shared/ports/deps.ts';
import type { Store } from '#shared/ports/store.ts';
import type { Principal } from '#shared/domain/model.ts';
import type { FunctionGroup, OperationId, OperationIdOf, PublicOperationId } from '#shared/http/routes.ts';

/** A validated request: the parts typed by the operation's schemas, and who is asking. */
export interface OperationRequest<K extends OperationId> {
  /** Who is calling; none on a route that needs no keys. */
  readonly principal: K extends PublicOperationId ? undefined : Principal;
  readonly actor: Actor;
  readonly sourceIp: string;
  readonly params: ParamsOf<K>;
  readonly query: QueryOf<K>;
  readonly body: BodyOf<K>;
  /** The body's bytes as sent, for a signature over them (GitHub's alerts); empty without a body. */
  readonly rawBody: Buffer;
  /** The request's headers, names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
}

/** A route's one use case and the mapping of its result to the response body, on the ports `D`. */
export type Operation<K extends OperationId, D> = (deps: D, request: OperationRequest<K>) => Promise<ResponseOf<K>>;

/** What the handler itself uses on every route, whatever the group: the log, the clock, and the store for `lastUsedAt`. */
export interface HandlerDeps {
  readonly store: Pick<Store, 'recordKeyUse'>;
  readonly logger: ApiDeps['logger'];
  readonly now: () => Date;
}

/**
 * One function group's part of the route table: each operation's schemas and its use case, and
 * in `D` the ports those use cases need, so that a function builds only the SDK clients and
 * adapters of its own routes. Every store call is scoped by the principal's account, so an id
 * of another account is simply not found.
 */
export interface OperationGroup<G extends FunctionGroup, D extends HandlerDeps> {
  readonly group: G;
  readonly schemas: GroupSchemas<G>;
  readonly operations: { readonly [K in OperationIdOf<G>]: Operation<K, D> };
}
