import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '#local/storage/dynamodb-local.ts';

/** One DynamoDB Local for the whole run; each test file makes its own table (see `test/support/dynamodb.ts`). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const engine = await startDynamoDbLocal();
  project.provide('dynamodbEndpoint', engine.endpoint);
  return () => engine.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
  }
}
