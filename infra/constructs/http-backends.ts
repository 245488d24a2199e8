import { HttpMethod, MappingValue, ParameterMapping, PayloadFormatVersion, type HttpRouteIntegration } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration, HttpUrlIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { ACCOUNT_KEY_HEADER, PRINCIPAL_HEADERS, USER_KEY_HEADER } from '#shared/http/backend-headers.ts';
import type { DownstreamMethod } from '#shared/http/team-routes.ts';
import { backendUrl, type BackendIntegrationKind } from './downstream-backends.ts';

/**
 * Every spelling of `header` with some of its dashes written as underscores (`x-latchkey-role`
 * -> `x_latchkey-role`, `x-latchkey_role`, ...), the dash form itself excluded: servers in the CGI
 * tradition read each of them as the header itself.
 */
export function underscoreSpellings(header: string): string[] {
  const parts = header.split('-');
  const spellings: string[] = [];
  for (let mask = 1; mask < 2 ** (parts.length - 1); mask += 1) {
    spellings.push(parts.reduce((name, part, index) => (index === 0 ? part : `${name}${mask & (2 ** (index - 1)) ? '_' : '-'}${part}`), ''));
  }
  return spellings;
}

/**
 * What an HTTP API's parameter mapping does to a request on its way to a team's HTTP backend:
 * both key headers removed, the four principal headers set from the authorizer's context
 * (overwriting a client's header of that name), and the underscore spellings of all six
 * removed. Unlike the REST flavor, HTTP APIs can delete a header, so the keys are gone rather
 * than overwritten; and with no WAF in front (its rule refuses any `x_latchkey_*` header), only
 * these named spellings are removed, not every `x_latchkey_*` name.
 */
export function principalParameterMapping(): ParameterMapping {
  const mapping = new ParameterMapping();
  for (const header of [ACCOUNT_KEY_HEADER, USER_KEY_HEADER]) {
    mapping.removeHeader(header);
    for (const spelling of underscoreSpellings(header)) mapping.removeHeader(spelling);
  }
  for (const [field, header] of Object.entries(PRINCIPAL_HEADERS)) {
    mapping.overwriteHeader(header, MappingValue.contextVariable(`authorizer.${field}`));
    for (const spelling of underscoreSpellings(header)) mapping.removeHeader(spelling);
  }
  return mapping;
}

const METHODS: Readonly<Record<DownstreamMethod, HttpMethod>> = {
  GET: HttpMethod.GET,
  HEAD: HttpMethod.HEAD,
  POST: HttpMethod.POST,
  PUT: HttpMethod.PUT,
  PATCH: HttpMethod.PATCH,
  DELETE: HttpMethod.DELETE,
  OPTIONS: HttpMethod.OPTIONS,
};

/** A method of the route table or a team route, as API Gateway V2 names it. */
export function httpMethodOf(method: DownstreamMethod): HttpMethod {
  return METHODS[method];
}

/** A construct id of letters and digits for a route: `GET /v1/things/{id}` -> `<prefix>GetV1ThingsId`. */
export function routeConstructId(prefix: string, route: { readonly method: string; readonly path: string }): string {
  const words = [route.method.toLowerCase(), ...route.path.split(/[^A-Za-z0-9]+/)].filter((word) => word !== '');
  return prefix + words.map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('');
}

/**
 * HTTP API: Lambda backends receive payload format 2.0 (the principal in
 * `requestContext.authorizer.lambda`), URL backends the principal mapping above.
 */
export const HTTP_API_BACKENDS: BackendIntegrationKind<HttpRouteIntegration> = {
  lambda: (fn) => new HttpLambdaIntegration(`${fn.node.id}Integration`, fn.function, { payloadFormatVersion: PayloadFormatVersion.VERSION_2_0 }),
  url: (route, backend) =>
    new HttpUrlIntegration(routeConstructId('Url', route), backendUrl(backend.url, route.path), {
      method: httpMethodOf(route.method),
      parameterMapping: principalParameterMapping(),
    }),
};
