import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';

/**
 * One item of a TransactWriteItems request. Its own module because both the transaction runner
 * (transactions.ts) and the stale-principal check it applies (principal-check.ts) read it.
 */
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
