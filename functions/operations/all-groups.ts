import { GitHubPublicKeys } from '#shared/adapters/github-keys.ts';
import type { FunctionGroup } from '#shared/http/routes.ts';
import type { ApiDeps } from '#shared/ports/deps.ts';
import { type ApiHandler, createGroupHandler } from '../commons/api-handler.ts';
import { ACCOUNT_OPERATIONS } from './account.ts';
import { API_KEYS_OPERATIONS } from './api-keys.ts';
import { CIDR_ALLOW_LIST_OPERATIONS } from './cidr-allow-list.ts';
import { LEAKED_KEYS_OPERATIONS } from './leaked-keys.ts';
import { LOGS_OPERATIONS } from './logs.ts';
import { USERS_OPERATIONS } from './users.ts';
import { WHOAMI_OPERATIONS } from './whoami.ts';

/**
 * The handler of any group's routes on the whole ApiDeps, for what serves every group in one
 * process: the local runtime, the tests and the bench. No Lambda function imports this module:
 * each takes its own group's file, so that its bundle carries only its own routes.
 */
const HANDLER_OF_GROUP: { readonly [G in FunctionGroup]: (deps: ApiDeps) => ApiHandler } = {
  whoami: (deps) => createGroupHandler(WHOAMI_OPERATIONS, deps),
  account: (deps) => createGroupHandler(ACCOUNT_OPERATIONS, deps),
  users: (deps) => createGroupHandler(USERS_OPERATIONS, deps),
  'api-keys': (deps) => createGroupHandler(API_KEYS_OPERATIONS, deps),
  'cidr-allow-list': (deps) => createGroupHandler(CIDR_ALLOW_LIST_OPERATIONS, deps),
  logs: (deps) => createGroupHandler(LOGS_OPERATIONS, deps),
  // GitHub's keys from LATCHKEY_GITHUB_KEYS_URL (or GitHub's own), cached for the handler's life.
  'leaked-keys': (deps) => createGroupHandler(LEAKED_KEYS_OPERATIONS, { ...deps, githubKeys: new GitHubPublicKeys() }),
};

export function createApiHandler(group: FunctionGroup, deps: ApiDeps): ApiHandler {
  return HANDLER_OF_GROUP[group](deps);
}
