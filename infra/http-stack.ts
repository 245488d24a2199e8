import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { LatchkeyHttpApi, type LatchkeyHttpApiProps } from './constructs/http-api.ts';

export interface LatchkeyHttpApiStackProps extends StackProps, LatchkeyHttpApiProps {}

/**
 * The HTTP API flavor (LatchkeyHttpApi) in a stack of its own, fed the table and the key of the
 * stateful stack: the same stack name and outputs as the REST flavor's, `HttpApiId` in place of
 * `RestApiId`.
 */
export class LatchkeyHttpApiStack extends Stack {
  readonly latchkey: LatchkeyHttpApi;

  constructor(scope: Construct, id: string, props: LatchkeyHttpApiStackProps) {
    super(scope, id, props);
    this.latchkey = new LatchkeyHttpApi(this, 'Default', props);

    new CfnOutput(this, 'ApiUrl', { value: this.latchkey.url, description: 'Base URL of the API (stage included)' });
    new CfnOutput(this, 'HttpApiId', { value: this.latchkey.api.apiId, description: 'The HTTP API, whose stage the revocation flusher resets' });
    new CfnOutput(this, 'StageName', { value: this.latchkey.stageName });
    new CfnOutput(this, 'TableName', { value: props.table.tableName, description: 'DynamoDB table (admin CLI: --table)' });
    new CfnOutput(this, 'KmsKeyId', { value: props.key.keyId, description: 'KMS key id (admin CLI: --kms-key-id)' });
    new CfnOutput(this, 'KmsKeyArn', { value: props.key.keyArn });
    new CfnOutput(this, 'Region', { value: this.region, description: 'admin CLI: --region' });
    new CfnOutput(this, 'EventBusName', { value: this.latchkey.eventBus.eventBusName, description: 'The bus of every audit event (Source latchkey)' });
    new CfnOutput(this, 'EventBusArn', { value: this.latchkey.eventBus.eventBusArn, description: "For rules and other accounts' access to the bus" });
  }
}
