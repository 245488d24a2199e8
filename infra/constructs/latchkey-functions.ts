import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ENV } from '#shared/adapters/environment.ts';
import { GITHUB_KEYS_URL_ENV } from '#shared/adapters/github-keys.ts';
import { parseRoutePolicy, routePolicyEnvironment } from '#shared/authorization/route-policy.ts';
import type { Plan } from '#shared/domain/plan.ts';
import { FUNCTION_GROUPS, type FunctionGroup } from '#shared/http/routes.ts';
import { writePermissionCatalog } from './permission-catalog-file.ts';
import { writePermissionPolicy } from './permission-policy-file.ts';
import type { ResolvedDownstreamRoute } from '#shared/http/team-routes.ts';
import { authorizerStatements, groupStatements, type FlushedStage } from '../permissions.ts';
import { LatchkeyFunction } from './latchkey-function.ts';
import { RevocationFlusher, stageEnvironment } from './revocation-flusher.ts';
import { TableSignals } from './table-signals.ts';
import { planEnvironment } from './usage-limits.ts';

/** The authorizer's SDK calls are bounded to end inside it (functions/commons/aws-client-settings.ts). */
export const AUTHORIZER_TIMEOUT = Duration.seconds(5);

export interface LatchkeyFunctionsProps {
  readonly table: ITable;
  readonly key: IKey;
  /** The team's routes as validated: the authorizer's policy lists them beside the management routes. */
  readonly routes: readonly ResolvedDownstreamRoute[];
  /** The stage the functions serve and whose authorizer cache the flusher empties. */
  readonly stage: FlushedStage;
  readonly maxKeysPerUser: number;
  readonly maxRulesPerKey: number;
  readonly auditRetentionDays: number;
  readonly defaultPlan: Plan;
  readonly logRetention: RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  /** Where the leaked-keys function reads GitHub's secret scanning keys (LatchkeyApiProps.githubKeysUrl); absent, GitHub's own. */
  readonly githubKeysUrl?: string | undefined;
}

/** What both front doors (REST and HTTP API) put behind their routes. */
export interface LatchkeyFunctions {
  readonly authorizerFunction: LatchkeyFunction;
  readonly groupFunctions: Readonly<Record<FunctionGroup, LatchkeyFunction>>;
  readonly revocationFlusher: RevocationFlusher;
  readonly tableSignals: TableSignals;
}

/**
 * The authorizer, one function per route group, the revocation flusher and the table signals,
 * made in `scope` itself (not in a construct of their own), so their construct ids, and with them
 * the logical ids of a deployed stack, stay what they were when the REST API made them.
 */
export function addLatchkeyFunctions(scope: Construct, props: LatchkeyFunctionsProps): LatchkeyFunctions {
  const { logRetention, logRemovalPolicy } = props;
  const data = { table: props.table, key: props.key };
  const environment = {
    [ENV.tableName]: props.table.tableName,
    [ENV.kmsKeyId]: props.key.keyId,
    // The API these functions serve and its stage: the configured name, not the Stage resource,
    // which depends on the routes, which depend on the functions.
    ...stageEnvironment(props.stage),
    [ENV.keysPerUser]: String(props.maxKeysPerUser),
    [ENV.rulesPerKey]: String(props.maxRulesPerKey),
    [ENV.auditRetentionDays]: String(props.auditRetentionDays),
    ...planEnvironment(props.defaultPlan),
  };

  // Restricted keys' policies are joined from lists written at synth; a file, too large for the environment.
  const routePolicy = routePolicyEnvironment(props.routes);
  const permissionPolicy = writePermissionPolicy(props.routes, parseRoutePolicy(routePolicy));
  const authorizerFunction = new LatchkeyFunction(scope, 'Authorizer', {
    entryName: 'authorizer',
    description: 'REQUEST authorizer: account key, user key, source IP',
    memorySize: 512,
    timeout: AUTHORIZER_TIMEOUT,
    environment: {
      [ENV.tableName]: props.table.tableName,
      [ENV.kmsKeyId]: props.key.keyId,
      // API Gateway caches one policy per caller for every route, so it must list the team's routes too.
      [ENV.routePolicy]: routePolicy,
      ...permissionPolicy?.environment,
    },
    // The authorizer's cold start delays the first request of every caller; its faults are
    // logged with minified positions, and the uploaded source map still resolves them.
    sourceMappedStackTraces: false,
    logRetention,
    logRemovalPolicy,
    ...(permissionPolicy === undefined ? {} : { bundledDirectory: permissionPolicy.bundledDirectory }),
  });
  for (const statement of authorizerStatements(data)) authorizerFunction.role.addToPrincipalPolicy(statement);

  const groupFunctions = {} as Record<FunctionGroup, LatchkeyFunction>;
  // GET /v1/permissions lists this deployment's permissions and a key's restriction is checked against them.
  const permissionCatalog = writePermissionCatalog(props.routes);
  for (const group of FUNCTION_GROUPS) {
    const fn = new LatchkeyFunction(scope, functionId(group), {
      entryName: group,
      description: `Latchkey ${group} routes`,
      memorySize: 512,
      timeout: Duration.seconds(10),
      environment: group === 'leaked-keys' ? { ...environment, ...githubKeysEnvironment(props.githubKeysUrl) } : environment,
      logRetention,
      logRemovalPolicy,
      ...(group === 'whoami' || group === 'api-keys' ? { bundledDirectory: permissionCatalog } : {}),
    });
    for (const statement of groupStatements(group, data)) fn.role.addToPrincipalPolicy(statement);
    groupFunctions[group] = fn;
  }

  const revocationFlusher = new RevocationFlusher(scope, 'RevocationFlusher', {
    table: props.table,
    stage: props.stage,
    logRetention,
    logRemovalPolicy,
  });
  const tableSignals = new TableSignals(scope, 'TableSignals', {
    table: props.table,
    auditRetentionDays: props.auditRetentionDays,
    logRetention,
    logRemovalPolicy,
  });
  return { authorizerFunction, groupFunctions, revocationFlusher, tableSignals };
}

/**
 * LATCHKEY_GITHUB_KEYS_URL for the leaked-keys function, only when a URL is given (the function
 * reads GitHub's own list otherwise). An https URL: the keys it serves decide which alerts are
 * believed, so a bad value stops synthesis, naming the prop.
 */
function githubKeysEnvironment(url: string | undefined): Record<string, string> {
  if (url === undefined) return {};
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed?.protocol !== 'https:') throw new Error(`githubKeysUrl must be an https URL, got '${url}'`);
  return { [GITHUB_KEYS_URL_ENV]: url };
}

/** Construct ids are part of the contract (they name the logical ids): `Fn` + the group in PascalCase. */
function functionId(group: FunctionGroup): string {
  return `Fn${group.replace(/(^|-)(\w)/g, (_m, _dash: string, letter: string) => letter.toUpperCase())}`;
}
