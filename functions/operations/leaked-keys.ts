import { LEAKED_KEYS_SCHEMAS } from '#shared/http/schemas/leaked-keys.ts';
import type { ApiDeps } from '#shared/ports/deps.ts';
import { reportLeakedKeys } from '#shared/services/leaked-keys.ts';
import type { OperationGroup } from '../commons/operations.ts';

/** Checking a reported key digests it: the peppers (KMS), besides the table. */
export type LeakedKeysDeps = Pick<ApiDeps, 'store' | 'peppers' | 'now' | 'authorizerCache' | 'logger'>;

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
