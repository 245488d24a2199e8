import { DynamoDbKeyLifecycleStore } from '#shared/adapters/dynamodb/key-lifecycle-store.ts';
import { DynamoDbKeyStore } from '#shared/adapters/dynamodb/key-store.ts';
import { GitHubPublicKeys } from '#shared/adapters/github-keys.ts';
import { methodsOf, onTable } from './commons/api-deps/table.ts';
import { lazyGroupHandler } from './commons/api-handler.ts';
import { pepperApiDeps } from './commons/api-deps/peppers.ts';
import { LEAKED_KEYS_OPERATIONS } from './operations/leaked-keys.ts';

/**
 * The `leaked-keys` routes of the route table (shared/http/routes.ts), on the table and KMS (the
 * peppers): the key-lifecycle store (with the leak records GitHub's repeated alerts are labelled
 * by), and the key store's use stamp; GitHub's alerts also read GitHub's public keys
 * (LATCHKEY_GITHUB_KEYS_URL), cached for the container's life.
 */
export const handler = lazyGroupHandler(LEAKED_KEYS_OPERATIONS, () => ({
  ...pepperApiDeps({
    ...methodsOf(onTable(DynamoDbKeyLifecycleStore), ['loadSecrets', 'flagAccountKeyLeak', 'endPreviousAccountKey', 'deleteKeyIfSecret', 'endPreviousSecret', 'leaksRecorded']),
    ...methodsOf(onTable(DynamoDbKeyStore), ['recordKeyUse']),
  }),
  githubKeys: new GitHubPublicKeys(),
}));
