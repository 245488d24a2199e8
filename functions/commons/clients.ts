import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { awsClientSettings } from './aws-client-settings.ts';

/**
 * SDK clients, created once per container (module scope) and reused by every invocation.
 * Tests and the local runtime build their own and inject them instead.
 */
export const dynamoDbClient = new DynamoDBClient(awsClientSettings());
export const documentClient = DynamoDBDocumentClient.from(dynamoDbClient, {
  marshallOptions: { removeUndefinedValues: true },
});
export const kmsClient = new KMSClient(awsClientSettings());
