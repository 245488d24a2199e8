import type { CfnWebACL } from 'aws-cdk-lib/aws-wafv2';
import { NON_CANONICAL_PATH_MESSAGE } from '#shared/http/request-path.ts';

/**
 * The WAF rules that give API Gateway what the local gateway does with a request's shape
 * (shared/http/request-path.ts, shared/http/backend-headers.ts). API Gateway decodes a parameter before
 * it reaches an HTTP backend and cannot drop a header by pattern, so without these a path that
 * reads two ways, or an `x_latchkey_role` header, would pass it. Both answer 400 before the
 * authorizer runs: the path with the local gateway's own body; the header is refused where the
 * local gateway drops it, since WAF can block a request but not edit it.
 */

/** The message of the 400 for a header that a backend could read as a key or principal header. */
export const WITHHELD_HEADER_MESSAGE = 'Invalid request header';

/** The web ACL's customResponseBodies for the two rules. */
export const REQUEST_SHAPE_BODIES = {
  'invalid-path': { contentType: 'APPLICATION_JSON', content: JSON.stringify({ message: NON_CANONICAL_PATH_MESSAGE }) },
  'invalid-header': { contentType: 'APPLICATION_JSON', content: JSON.stringify({ message: WITHHELD_HEADER_MESSAGE }) },
} as const satisfies Record<string, CfnWebACL.CustomResponseBodyProperty>;

/**
 * As sent: `\` and the encodings of `/` and `\`, which decode into separators the route match
 * did not see. (WAF's regular expressions are PCRE: `(?i)` folds case.)
 */
export const ENCODED_SEPARATOR_REGEX = '(?i)\\\\|%2f|%5c';

/**
 * Once URL-decoded: a segment that is `.` or `..`, also with a `;parameter` after it. A `..`
 * inside a name (`x..y`) is an ordinary segment. The raw form is covered too, since decoding
 * leaves it as it is.
 */
export const DOT_SEGMENT_REGEX = '(^|/)\\.{1,2}(;[^/]*)?(/|$)';

/**
 * A header name that contains `_` and, read with `_` as `-` (as CGI, WSGI, PHP and Rack read
 * it), is a key header or an `x-latchkey-*` header. The dash spellings need no rule: the
 * integration sets the four principal headers and both key headers itself, replacing the
 * client's, and a request with the keys in their own names must of course pass.
 */
export const UNDERSCORE_HEADER_REGEX = '(?i)^x(_(latchkey[-_].*|api[-_](secret[-_])?key)|-(latchkey_.*|latchkey-.*_.*|api_(secret[-_])?key|api-secret_key))$';

function blocked400(customResponseBodyKey: keyof typeof REQUEST_SHAPE_BODIES): CfnWebACL.RuleActionProperty {
  return { block: { customResponse: { responseCode: 400, customResponseBodyKey } } };
}

function regexMatch(
  regexString: string,
  fieldToMatch: CfnWebACL.FieldToMatchProperty,
  transformation: 'NONE' | 'URL_DECODE',
): CfnWebACL.StatementProperty {
  return { regexMatchStatement: { regexString, fieldToMatch, textTransformations: [{ priority: 0, type: transformation }] } };
}

/** The two rules, at `priority` and `priority + 1`; the web ACL must also carry REQUEST_SHAPE_BODIES. */
export function requestShapeRules(
  priority: number,
  visibility: (metricName: string) => CfnWebACL.VisibilityConfigProperty,
): CfnWebACL.RuleProperty[] {
  return [
    {
      name: 'NonCanonicalPath',
      priority,
      action: blocked400('invalid-path'),
      statement: {
        orStatement: {
          statements: [
            regexMatch(ENCODED_SEPARATOR_REGEX, { uriPath: {} }, 'NONE'),
            regexMatch(DOT_SEGMENT_REGEX, { uriPath: {} }, 'URL_DECODE'),
          ],
        },
      },
      visibilityConfig: visibility('latchkey-non-canonical-path'),
    },
    {
      name: 'UnderscoreKeyOrPrincipalHeader',
      priority: priority + 1,
      action: blocked400('invalid-header'),
      statement: regexMatch(UNDERSCORE_HEADER_REGEX, { headers: { matchPattern: { all: {} }, matchScope: 'KEY', oversizeHandling: 'MATCH' } }, 'NONE'),
      visibilityConfig: visibility('latchkey-underscore-header'),
    },
  ];
}
