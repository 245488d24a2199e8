import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsClientSettings } from '#functions/commons/aws-client-settings.ts';

/**
 * Bench group 3's floor: the AWS SDK clients the handlers use, built at module scope with the
 * functions' settings, and nothing else. A handler's bundle loads in at least this much time
 * whatever its own code does, so `load / SDK floor` is what the handler's own code costs.
 */
export const dynamoDbClient = new DynamoDBClient(awsClientSettings());
export const documentClient = DynamoDBDocumentClient.from(dynamoDbClient, { marshallOptions: { removeUndefinedValues: true } });
export const kmsClient = new KMSClient(awsClientSettings());
export const apiGatewayClient = new APIGatewayClient(awsClientSettings());

export const handler = async (): Promise<{ statusCode: number; body: string }> => Promise.resolve({ statusCode: 200, body: '{}' });
