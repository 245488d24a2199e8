import * as fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWithheldHeader } from '#shared/http/backend-headers.ts';
import { NON_CANONICAL_PATH_MESSAGE, isCanonicalPath } from '#shared/http/request-path.ts';
import { synthLatchkey, type CfnResource, type SynthesizedLatchkey } from './cdk-app.ts';

/**
 * The deployed stage refuses what the local gateway refuses or withholds (DESIGN 13): a path
 * that reads two ways, and a header a backend could read as a key or principal header. Each
 * rule's regular expression is read from the synthesized web ACL and checked against the
 * local rule on the same inputs, so the two cannot drift apart.
 */

interface RegexMatch {
  readonly RegexString: string;
  readonly FieldToMatch: Record<string, unknown>;
  readonly TextTransformations: readonly { readonly Type: string }[];
}
interface WafRule {
  readonly Name: string;
  readonly Priority: number;
  readonly Action?: { Block?: { CustomResponse?: { ResponseCode: number; CustomResponseBodyKey: string } } };
  readonly Statement: { OrStatement?: { Statements: { RegexMatchStatement: RegexMatch }[] }; RegexMatchStatement?: RegexMatch };
}

/** WAF's PCRE with `(?i)` as a JavaScript RegExp with the `i` flag (the only inline flag used). */
function asRegExp(pcre: string): RegExp {
  return pcre.startsWith('(?i)') ? new RegExp(pcre.slice(4), 'i') : new RegExp(pcre);
}

/** What WAF's URL_DECODE makes of a path: one pass of percent-decoding, bytes it cannot decode left alone. */
function urlDecoded(path: string): string {
  return path.replace(/%([0-9a-f]{2})/gi, (_escape, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

describe('the web ACL refuses paths and headers as the local gateway does', () => {
  let synth: SynthesizedLatchkey;
  let rules: WafRule[];
  let bodies: Record<string, { Content: string; ContentType: string }>;

  beforeAll(() => {
    synth = synthLatchkey();
    const acl = Object.values(synth.apiTemplate.findResources('AWS::WAFv2::WebACL') as Record<string, CfnResource>)[0];
    rules = (acl?.Properties.Rules ?? []) as WafRule[];
    bodies = (acl?.Properties.CustomResponseBodies ?? {}) as typeof bodies;
  });
  afterAll(() => {
    synth.cleanup();
  });

  function rule(name: string): WafRule {
    const found = rules.find((candidate) => candidate.Name === name);
    if (found === undefined) throw new Error(`the web ACL has no rule ${name}`);
    return found;
  }

  it('answers 400 with a JSON body, before the managed rule groups run', () => {
    for (const name of ['NonCanonicalPath', 'UnderscoreKeyOrPrincipalHeader']) {
      const response = rule(name).Action?.Block?.CustomResponse;
      expect(response?.ResponseCode).toBe(400);
      const body = bodies[response?.CustomResponseBodyKey ?? ''];
      expect(body?.ContentType).toBe('APPLICATION_JSON');
      expect(JSON.parse(body?.Content ?? '')).toHaveProperty('message');
      const managed = rules.filter((candidate) => candidate.Name.startsWith('AWSManagedRules'));
      for (const group of managed) expect(rule(name).Priority).toBeLessThan(group.Priority);
    }
    const pathBody = bodies[rule('NonCanonicalPath').Action?.Block?.CustomResponse?.CustomResponseBodyKey ?? ''];
    expect(JSON.parse(pathBody?.Content ?? '')).toEqual({ message: NON_CANONICAL_PATH_MESSAGE });
  });

  it('blocks exactly the paths the local gateway refuses as not canonical', () => {
    const statements = rule('NonCanonicalPath').Statement.OrStatement?.Statements.map((s) => s.RegexMatchStatement) ?? [];
    expect(statements.length).toBeGreaterThan(0);
    const blocks = (path: string): boolean =>
      statements.some((statement) => {
        expect(statement.FieldToMatch).toEqual({ UriPath: {} });
        const decode = statement.TextTransformations.some((t) => t.Type === 'URL_DECODE');
        return asRegExp(statement.RegexString).test(decode ? urlDecoded(path) : path);
      });
    const examples = [
      '/v1/databases/db1\\password',
      '/v1/databases/db1%5cpassword',
      '/v1/databases/db1%2Fpassword',
      '/files/public/%2e%2e/admin/x',
      '/files/public/../admin/x',
      '/files/public/%2E./admin',
      '/files/public/./x',
      '/files/public/..;x/admin',
      '/files/public/..',
      '/v1/whoami',
      '/files/public/x..y',
      '/files/public/.hidden',
      '/v1/api-keys/abc/cidr-allow-list',
    ];
    for (const path of examples) expect(blocks(path), path).toBe(!isCanonicalPath(path));
    const segment = fc.stringMatching(/^(?:[a-z]|\.|%2[eEfF]|%5[cC]|\\|;){0,4}$/);
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), (segments) => {
        const path = `/${segments.join('/')}`;
        expect(blocks(path), path).toBe(!isCanonicalPath(path));
      }),
      { numRuns: 2000 },
    );
  });

  it('blocks every header name with `_` that a backend could read as a key or principal header, and no other', () => {
    const statement = rule('UnderscoreKeyOrPrincipalHeader').Statement.RegexMatchStatement;
    expect(statement?.FieldToMatch).toEqual({ Headers: { MatchPattern: { All: {} }, MatchScope: 'KEY', OversizeHandling: 'MATCH' } });
    const regex = asRegExp(statement?.RegexString ?? '$^');
    // The dash spellings pass: the keys must, and the integration overwrites the principal headers.
    for (const name of ['x-api-key', 'x-api-secret-key', 'x-latchkey-role', 'content-type', 'x_custom']) expect(regex.test(name), name).toBe(false);
    for (const name of ['x_latchkey_role', 'X_Latchkey_User_Id', 'x-latchkey_plan', 'x-latchkey-user_id', 'x_api_key', 'X-Api-Secret_Key']) {
      expect(regex.test(name), name).toBe(true);
    }
    const part = fc.constantFrom('x', 'X', '-', '_', 'latchkey', 'LatchKey', 'api', 'secret', 'key', 'role', 'a');
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 8 }), (parts) => {
        const name = parts.join('');
        expect(regex.test(name), name).toBe(name.includes('_') && isWithheldHeader(name));
      }),
      { numRuns: 5000 },
    );
  });
});
