import { LEAKED_KEYS_SCHEMAS } from '#shared/http/schemas/leaked-keys.ts';
import type { ApiDeps } from '#shared/ports/deps.ts';
import type { GitHubKeySource } from '#shared/ports/github-keys.ts';
import type { KeyLifecycleStore } from '#shared/ports/key-lifecycle-store.ts';
import type { KeyStore } from '#shared/ports/key-store.ts';
import { type GitHubAlertLabels, GitHubSignatureError, handleGitHubAlerts, verifyGitHubSignature } from '#shared/services/github-alerts.ts';
import { reportLeakedKeys } from '#shared/services/leaked-keys.ts';
import type { OperationGroup } from '../commons/operations.ts';
import { HttpProblemError } from '../commons/problems.ts';

/**
 * Checking a reported key digests it: the peppers (KMS), besides the table. GitHub's alerts
 * also need GitHub's public keys, and the labels this container answered before.
 */
export type LeakedKeysDeps = Pick<ApiDeps, 'peppers' | 'now' | 'authorizerCache' | 'logger'> & {
  readonly store: Pick<KeyLifecycleStore, 'loadSecrets' | 'flagAccountKeyLeak' | 'endPreviousAccountKey' | 'deleteKeyIfSecret' | 'endPreviousSecret'> &
    Pick<KeyStore, 'recordKeyUse'>;
  readonly githubKeys: GitHubKeySource;
  readonly githubAlertLabels: GitHubAlertLabels;
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
      return handleGitHubAlerts(deps, deps.githubAlertLabels, body, sourceIp);
    },
  },
};
