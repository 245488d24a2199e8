/**
 * The parts of API Gateway REST's proxy event that come from the request itself, shaped as
 * API Gateway shapes them, so that handlers read the same event locally as deployed.
 */

/** A request's headers as received: a name sent more than once carries every value. */
export type RawHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface HeaderMaps {
  readonly headers: Record<string, string>;
  readonly multiValueHeaders: Record<string, string[]>;
}

/** API Gateway's two views of the headers: the last value of each, and every value. */
export function headerMaps(raw: RawHeaders): HeaderMaps {
  // Maps, not object literals: a client's 'constructor' or '__proto__' header would otherwise
  // be read from Object.prototype and throw (a 500 for anyone who sends one).
  const headers = new Map<string, string>();
  const multiValueHeaders = new Map<string, string[]>();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const values = typeof value === 'string' ? [value] : [...value];
    const last = values.at(-1);
    if (last === undefined) continue;
    const key = name.toLowerCase();
    multiValueHeaders.set(key, [...(multiValueHeaders.get(key) ?? []), ...values]);
    headers.set(key, last);
  }
  return { headers: Object.fromEntries(headers), multiValueHeaders: Object.fromEntries(multiValueHeaders) };
}

export function queryMaps(query: string | undefined): {
  queryStringParameters: Record<string, string> | null;
  multiValueQueryStringParameters: Record<string, string[]> | null;
} {
  if (query === undefined || query === '') return { queryStringParameters: null, multiValueQueryStringParameters: null };
  // Maps for the same reason as the headers: '?constructor=' or '?valueOf=' must not reach Object.prototype.
  const single = new Map<string, string>();
  const multi = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(query)) {
    single.set(name, value);
    multi.set(name, [...(multi.get(name) ?? []), value]);
  }
  if (single.size === 0) return { queryStringParameters: null, multiValueQueryStringParameters: null };
  return { queryStringParameters: Object.fromEntries(single), multiValueQueryStringParameters: Object.fromEntries(multi) };
}

