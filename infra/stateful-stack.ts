import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { Key } from 'aws-cdk-lib/aws-kms';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { LatchkeyData } from './constructs/latchkey-data.ts';

export interface LatchkeyStatefulStackProps extends StackProps {
  /** Names the KMS alias (`alias/latchkey/<stage>`). */
  readonly stage: string;
  /**
   * Delete the table, the key and the logs with the stack. Only for throw-away deployments.
   * @default false - table and key are retained, the table also has deletion protection
   */
  readonly destroyOnRemoval?: boolean;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/** The table, the KMS key and the pepper (LatchkeyData), in a stack of their own that every deployment keeps. */
export class LatchkeyStatefulStack extends Stack {
  readonly table: Table;
  readonly key: Key;

  constructor(scope: Construct, id: string, props: LatchkeyStatefulStackProps) {
    super(scope, id, props);
    // The id 'Default' leaves the logical ids as they were when these resources sat on the stack
    // itself: CloudFormation must never see the table or the key as new resources.
    const data = new LatchkeyData(this, 'Default', props);
    this.table = data.table;
    this.key = data.key;

    new CfnOutput(this, 'TableName', { value: this.table.tableName, description: 'DynamoDB table (admin CLI: --table)' });
    new CfnOutput(this, 'KmsKeyId', { value: this.key.keyId, description: 'KMS key id (admin CLI: --kms-key-id)' });
    new CfnOutput(this, 'KmsKeyArn', { value: this.key.keyArn, description: 'KMS key ARN' });
    new CfnOutput(this, 'Region', { value: this.region, description: 'Region of the table and the key (admin CLI: --region)' });
  }
}
