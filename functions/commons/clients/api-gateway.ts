import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { awsClientSettings } from '../aws-client-settings.ts';

/** The API Gateway client, once per container (see ./dynamodb.ts): only the account function reads usage plans. */
export const apiGatewayClient = new APIGatewayClient(awsClientSettings());
