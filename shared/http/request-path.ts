/**
 * One canonical request path for routing, authorization and forwarding. The gateway matches a
 * route and the policy judges the path as sent, but a URL library or a backend resolves `\`,
 * dot segments and encoded slashes on its own: `/files/public/%2e%2e/admin/x`, authorized as a
 * public file, would be served as `/files/admin/x`. A path that could be read two ways is
 * refused before any route is matched, so there is only one reading to authorize.
 */

/** `\` (WHATWG URLs read it as `/`) and encoded slashes or backslashes, in any case. */
const SEPARATOR_SPELLINGS = /\\|%2f|%5c/i;
/** `.` and `..`, raw or percent-encoded, before an optional `;parameter` (servlet containers drop it, then resolve the dots). */
const DOT_SEGMENT = /^(?:\.|%2e){1,2}(?:;.*)?$/i;

/** Whether every reader of this path (the matcher, a URL library, a backend) sees the same segments. */
export function isCanonicalPath(path: string): boolean {
  if (SEPARATOR_SPELLINGS.test(path)) return false;
  return !path.split('/').some((segment) => DOT_SEGMENT.test(segment));
}

/** The message of the gateway's 400 for a path that is not canonical (the deployed WAF rule answers the same). */
export const NON_CANONICAL_PATH_MESSAGE = 'Invalid request path';

/**
 * Percent-encodes one decoded path segment. Characters a path segment may hold as they are
 * (RFC 3986 pchar) stay readable, except `;`, which some servers cut a segment at.
 */
function encodeSegment(value: string): string {
  return encodeURIComponent(value).replace(/%(?:3A|40|24|26|2B|2C|3D)/g, (escape) => decodeURIComponent(escape));
}

/**
 * The path a backend receives: the route's own template with each parameter percent-encoded
 * (a greedy one segment by segment), so whatever a parameter holds it stays inside the route
 * that was authorized. `parameters` are decoded, as the gateway's events carry them.
 */
export function pathFromTemplate(template: string, parameters: Readonly<Record<string, string | undefined>> | null): string {
  return template.replace(/\{(\w+)(\+?)\}/g, (_match, name: string, greedy: string) => {
    const value = parameters?.[name];
    if (value === undefined) throw new Error(`the path parameter {${name}} has no value`);
    return greedy === '+' ? value.split('/').map(encodeSegment).join('/') : encodeSegment(value);
  });
}
