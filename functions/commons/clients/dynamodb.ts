import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsClientSettings } from '../aws-client-settings.ts';

/**
 * The DynamoDB clients, created once per container (module scope) and reused by every
 * invocation. One module per AWS service, so that a function bundles and builds only the
 * clients it uses; tests and the local runtime build their own and inject them instead.
 */
export const dynamoDbClient = new DynamoDBClient(awsClientSettings());
export const documentClient = DynamoDBDocumentClient.from(dynamoDbClient, {
  marshallOptions: { removeUndefinedValues: true },
});
