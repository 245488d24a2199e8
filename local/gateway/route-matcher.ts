/**
 * API Gateway REST's choice of resource for a request path, over management and team routes
 * together: a literal segment wins over a `{param}`, which wins over a greedy `{proxy+}`,
 * compared from the left. Routes are matched for the request's method only.
 */

export interface MatchableRoute {
  readonly method: string;
  /** API Gateway resource path: `/v1/users/{userId}`, `/files/{proxy+}`. */
  readonly path: string;
}

export interface RouteMatch<R extends MatchableRoute> {
  readonly route: R;
  /** Decoded path parameters, or null when the route has none (as in API Gateway's events). */
  readonly pathParameters: Record<string, string> | null;
}

interface Compiled<R> {
  readonly route: R;
  readonly pattern: RegExp;
  readonly names: readonly string[];
  /** Per segment: 0 literal, 1 parameter, 2 greedy; lower is more specific. */
  readonly rank: readonly number[];
}

function escape(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function compile<R extends MatchableRoute>(route: R): Compiled<R> {
  const names: string[] = [];
  const rank: number[] = [];
  const source = route.path
    .split('/')
    .slice(1)
    .map((segment) => {
      const greedy = /^\{(\w+)\+\}$/.exec(segment);
      if (greedy?.[1] !== undefined) {
        names.push(greedy[1]);
        rank.push(2);
        return '(.+)';
      }
      const parameter = /^\{(\w+)\}$/.exec(segment);
      if (parameter?.[1] !== undefined) {
        names.push(parameter[1]);
        rank.push(1);
        return '([^/]+)';
      }
      rank.push(0);
      return escape(segment);
    })
    .join('/');
  return { route, pattern: new RegExp(`^/${source}$`), names, rank };
}

function moreSpecific(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < Math.min(a.length, b.length); i += 1) {
    const [x, y] = [a[i] as number, b[i] as number];
    if (x !== y) return x < y;
  }
  return a.length > b.length;
}

function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    // A malformed escape stays as sent; no id can contain '%', so it simply finds nothing.
    return raw;
  }
}

export class RouteMatcher<R extends MatchableRoute> {
  /** Compiled once, grouped by method: a request is only ever tried against its method's routes. */
  readonly #byMethod = new Map<string, Compiled<R>[]>();

  constructor(routes: readonly R[]) {
    for (const route of routes) {
      const compiled = compile(route);
      const list = this.#byMethod.get(route.method);
      if (list === undefined) this.#byMethod.set(route.method, [compiled]);
      else list.push(compiled);
    }
  }

  match(method: string, path: string): RouteMatch<R> | undefined {
    let best: { compiled: Compiled<R>; values: readonly string[] } | undefined;
    for (const compiled of this.#byMethod.get(method) ?? []) {
      const found = compiled.pattern.exec(path);
      if (found === null) continue;
      if (best === undefined || moreSpecific(compiled.rank, best.compiled.rank)) best = { compiled, values: found.slice(1) };
    }
    if (best === undefined) return undefined;
    const { compiled, values } = best;
    if (compiled.names.length === 0) return { route: compiled.route, pathParameters: null };
    const pathParameters: Record<string, string> = {};
    compiled.names.forEach((name, index) => {
      const raw = values[index] ?? '';
      // A greedy parameter keeps its slashes; each segment is decoded on its own.
      pathParameters[name] = raw.split('/').map(decodeSegment).join('/');
    });
    return { route: compiled.route, pathParameters };
  }
}
