/**
 * The headers between the gateway and a team's backend: the two keys, which prove who the
 * caller is to the gateway and never reach a backend, and the principal headers, which only the
 * gateway sets. No imports: functions/principal.ts, bundled into teams' functions, reads it.
 */

export const ACCOUNT_KEY_HEADER = 'x-api-key';
export const USER_KEY_HEADER = 'x-api-secret-key';

/** The headers an HTTP backend reads the caller from, set by the gateway from the authorizer's context (DESIGN 7). */
export const PRINCIPAL_HEADERS = {
  accountId: 'x-latchkey-account-id',
  userId: 'x-latchkey-user-id',
  role: 'x-latchkey-role',
  keyId: 'x-latchkey-key-id',
} as const;

const PRINCIPAL_HEADER_PREFIX = 'x-latchkey-';

/**
 * A header name as servers in the CGI tradition (CGI, WSGI, PHP, Rack, nginx with
 * `underscores_in_headers`) read it: case folded and `_` taken for `-`, so `X_Latchkey_Role`
 * and `x-latchkey-role` are one header to them.
 */
function readAs(name: string): string {
  return name.toLowerCase().replaceAll('_', '-');
}

/** Either key header, in any spelling a backend could read as one. */
export function isKeyHeader(name: string): boolean {
  const read = readAs(name);
  return read === ACCOUNT_KEY_HEADER || read === USER_KEY_HEADER;
}

/**
 * Any header a backend could take for one the gateway speaks with: every `x-latchkey-*` name,
 * not only the four set today, in any case and with `_` for `-`.
 */
export function isPrincipalHeader(name: string): boolean {
  return readAs(name).startsWith(PRINCIPAL_HEADER_PREFIX);
}

/** Whether a client's header must be kept from a backend: a key, or a would-be principal header. */
export function isWithheldHeader(name: string): boolean {
  return isKeyHeader(name) || isPrincipalHeader(name);
}

interface HeaderViews {
  readonly headers?: Readonly<Record<string, string | undefined>> | null;
  readonly multiValueHeaders?: Readonly<Record<string, readonly string[] | undefined>> | null;
}

function kept<V>(map: Readonly<Record<string, V>>): Record<string, V> {
  return Object.fromEntries(Object.entries(map).filter(([name]) => !isWithheldHeader(name)));
}

/**
 * A proxy event without the keys and the would-be principal headers, in both of its header
 * views; a copy, the event given is left as it is.
 */
export function withoutWithheldHeaders<E extends HeaderViews>(event: E): E {
  return {
    ...event,
    ...(event.headers == null ? {} : { headers: kept(event.headers) }),
    ...(event.multiValueHeaders == null ? {} : { multiValueHeaders: kept(event.multiValueHeaders) }),
  };
}
