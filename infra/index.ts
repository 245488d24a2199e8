/**
 * The package's CDK entry (`import { Latchkey } from 'latchkey'`): the constructs a team puts in
 * its own app, and the route declaration they take.
 */
export { Latchkey, type LatchkeyProps } from './constructs/latchkey.ts';
export { LatchkeyApi, AUTHORIZER_TIMEOUT, type LatchkeyApiProps } from './constructs/latchkey-api.ts';
export { LatchkeyHttpApi, type LatchkeyHttpApiProps } from './constructs/http-api.ts';
export { principalParameterMapping } from './constructs/http-backends.ts';
export { LatchkeyData, type LatchkeyDataProps } from './constructs/latchkey-data.ts';
export { LatchkeyFunction, type LatchkeyFunctionProps } from './constructs/latchkey-function.ts';
export { PRINCIPAL_HEADERS, STRIPPED_KEY_VALUE, principalRequestParameters } from './constructs/downstream-backends.ts';
export {
  DOWNSTREAM_METHODS,
  RouteDeclarationError,
  defaultRoles,
  resolveDownstreamRoutes,
  type DownstreamBackend,
  type DownstreamMethod,
  type DownstreamRoute,
  type HttpBackend,
  type LambdaBackend,
  type ResolvedDownstreamRoute,
} from '#shared/http/team-routes.ts';
export type { KeyRole } from '#shared/domain/roles.ts';
