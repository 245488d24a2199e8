import { KMSClient } from '@aws-sdk/client-kms';
import { awsClientSettings } from '../aws-client-settings.ts';

/** The KMS client, once per container (see ./dynamodb.ts): for the functions that read peppers or account keys. */
export const kmsClient = new KMSClient(awsClientSettings());
