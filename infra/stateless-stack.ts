import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import type { Construct } from 'constructs';
import type { FunctionGroup } from '#shared/http/routes.ts';
import { LatchkeyApi, type LatchkeyApiProps } from './constructs/latchkey-api.ts';
import type { UsageLimits } from './constructs/usage-limits.ts';
import type { RevocationFlusher } from './constructs/revocation-flusher.ts';
import type { TableSignals } from './constructs/table-signals.ts';
import type { LatchkeyFunction } from './constructs/latchkey-function.ts';

export { AUTHORIZER_TIMEOUT } from './constructs/latchkey-api.ts';

export interface LatchkeyApiStackProps extends StackProps, LatchkeyApiProps {}

/** The API (LatchkeyApi) in a stack of its own, fed the table and the key of the stateful stack. */
export class LatchkeyApiStack extends Stack {
  readonly api: RestApi;
  readonly authorizerFunction: LatchkeyFunction;
  readonly groupFunctions: Readonly<Record<FunctionGroup, LatchkeyFunction>>;
  readonly stageName: string;
  readonly latchkey: LatchkeyApi;
  readonly usageLimits: UsageLimits;
  readonly revocationFlusher: RevocationFlusher;
  readonly tableSignals: TableSignals;

  constructor(scope: Construct, id: string, props: LatchkeyApiStackProps) {
    super(scope, id, props);
    // The id 'Default' keeps the logical ids of the resources that sat on the stack itself, so an
    // update keeps the same REST API (and its URL).
    this.latchkey = new LatchkeyApi(this, 'Default', props);
    this.api = this.latchkey.api;
    this.authorizerFunction = this.latchkey.authorizerFunction;
    this.groupFunctions = this.latchkey.groupFunctions;
    this.stageName = this.latchkey.stageName;
    this.usageLimits = this.latchkey.usageLimits;
    this.revocationFlusher = this.latchkey.revocationFlusher;
    this.tableSignals = this.latchkey.tableSignals;

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the API (stage included)' });
    new CfnOutput(this, 'RestApiId', { value: this.api.restApiId });
    new CfnOutput(this, 'StageName', { value: this.stageName });
    new CfnOutput(this, 'TableName', { value: props.table.tableName, description: 'DynamoDB table (admin CLI: --table)' });
    new CfnOutput(this, 'KmsKeyId', { value: props.key.keyId, description: 'KMS key id (admin CLI: --kms-key-id)' });
    new CfnOutput(this, 'KmsKeyArn', { value: props.key.keyArn });
    new CfnOutput(this, 'Region', { value: this.region, description: 'admin CLI: --region' });
    new CfnOutput(this, 'EventBusName', { value: this.latchkey.eventBus.eventBusName, description: 'The bus of every audit event (Source latchkey)' });
    new CfnOutput(this, 'EventBusArn', { value: this.latchkey.eventBus.eventBusArn, description: "For rules and other accounts' access to the bus" });
  }
}
