import { LEAKED_KEYS_SCHEMAS } from '#shared/http/schemas/leaked-keys.ts';
import type { ApiDeps } from '#shared/ports/deps.ts';
import type { KeyLifecycleStore } from '#shared/ports/key-lifecycle-store.ts';
import type { KeyStore } from '#shared/ports/key-store.ts';
import { reportLeakedKeys } from '#shared/services/leaked-keys.ts';
import type { OperationGroup } from '../commons/operations.ts';

/** Checking a reported key digests it: the peppers (KMS), besides the table. */
export type LeakedKeysDeps = Pick<ApiDeps, 'peppers' | 'now' | 'authorizerCache' | 'logger'> & {
  readonly store: Pick<KeyLifecycleStore, 'loadSecrets' | 'flagAccountKeyLeak' | 'endPreviousAccountKey' | 'deleteKeyIfSecret' | 'endPreviousSecret'> &
    Pick<KeyStore, 'recordKeyUse'>;
};

export const LEAKED_KEYS_OPERATIONS: OperationGroup<'leaked-keys', LeakedKeysDeps> = {
  group: 'leaked-keys',
  schemas: LEAKED_KEYS_SCHEMAS,
  operations: {
    reportLeakedKeys: async (deps, { sourceIp, body }) => {
      await reportLeakedKeys(deps, body.keys, sourceIp);
      return {};
    },
  },
};
