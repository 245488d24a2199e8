import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { awsClientSettings } from '../aws-client-settings.ts';

/** The EventBridge client, once per container (see ./dynamodb.ts): only the table signals function puts events. */
export const eventBridgeClient = new EventBridgeClient(awsClientSettings());
