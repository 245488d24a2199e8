import { LEAKED_KEYS_SCHEMAS } from '#shared/http/schemas/leaked-keys.ts';
import type { ApiDeps } from '#shared/ports/deps.ts';
import type { GitHubKeySource } from '#shared/ports/github-keys.ts';
import type { KeyLifecycleStore } from '#shared/ports/key-lifecycle-store.ts';
import type { KeyStore } from '#shared/ports/key-store.ts';
import { GitHubSignatureError, handleGitHubAlerts, verifyGitHubSignature } from '#shared/services/github-alerts.ts';
import { reportLeakedKeys } from '#shared/services/leaked-keys.ts';
import type { OperationGroup } from '../commons/operations.ts';
import { HttpProblemError } from '../commons/problems.ts';

/**
 * Checking a reported key digests it: the peppers (KMS), besides the table. GitHub's alerts
 * also need GitHub's public keys, and read the leak records earlier reports left.
 */
export type LeakedKeysDeps = Pick<ApiDeps, 'peppers' | 'now' | 'authorizerCache' | 'logger'> & {
  readonly store: Pick<KeyLifecycleStore, 'loadSecrets' | 'flagAccountKeyLeak' | 'endPreviousAccountKey' | 'deleteKeyIfSecret' | 'endPreviousSecret' | 'leaksRecorded'> &
    Pick<KeyStore, 'recordKeyUse'>;
  readonly githubKeys: GitHubKeySource;
};

export const LEAKED_KEYS_OPERATIONS: OperationGroup<'leaked-keys', LeakedKeysDeps> = {
  group: 'leaked-keys',
  schemas: LEAKED_KEYS_SCHEMAS,
  operations: {
    reportLeakedKeys: async (deps, { sourceIp, body }) => {
      await reportLeakedKeys(deps, body.keys, sourceIp);
      return {};
    },
    reportGitHubAlerts: async (deps, { sourceIp, body, rawBody, headers }) => {
      try {
        await verifyGitHubSignature(deps.githubKeys, rawBody, headers['github-public-key-identifier'], headers['github-public-key-signature']);
      } catch (error) {
        if (error instanceof GitHubSignatureError) throw new HttpProblemError('unauthorized', error.message, undefined, { cause: error });
        throw error;
      }
      return handleGitHubAlerts(deps, body, sourceIp);
    },
  },
};
