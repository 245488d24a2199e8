import { randomBytes } from 'node:crypto';
import { GenerateDataKeyWithoutPlaintextCommand, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import type { CdkCustomResourceEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { KmsSecrets } from '#shared/adapters/kms-secrets.ts';
import { createPepperInitHandler } from '#functions/pepper-init.ts';
import { createLogger } from '#functions/commons/logger.ts';
import { createTestTable } from '#test/support/dynamodb.ts';

const KEY_ID = '11111111-2222-3333-4444-555555555555';

function cfnEvent(requestType: 'Create' | 'Update' | 'Delete', tableName: string): CdkCustomResourceEvent {
  const common = {
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:provider',
    ResponseURL: 'https://cloudformation-custom-resource-response.example/',
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/LatchkeyStateful/1',
    RequestId: 'request-1',
    LogicalResourceId: 'Pepper',
    ResourceType: 'Custom::LatchkeyPepper',
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:provider', TableName: tableName },
  };
  if (requestType === 'Create') return { ...common, RequestType: 'Create' };
  if (requestType === 'Update') {
    return { ...common, RequestType: 'Update', PhysicalResourceId: `${tableName}/pepper`, OldResourceProperties: common.ResourceProperties };
  }
  return { ...common, RequestType: 'Delete', PhysicalResourceId: `${tableName}/pepper` };
}

describe('pepper-init custom resource', () => {
  const kmsClient = new KMSClient({});
  const kms = mockClient(kmsClient);
  const logger = createLogger('latchkey-pepper-init-test');

  beforeEach(() => {
    kms.reset();
    kms.on(GenerateDataKeyWithoutPlaintextCommand).callsFake(() => ({ CiphertextBlob: randomBytes(184), KeyId: KEY_ID }));
  });

  it('creates pepper version 1 on Create, made by KMS under the pepper context', async () => {
    // Prepare
    const table = await createTestTable();
    const handler = createPepperInitHandler(table.store, new KmsSecrets(kmsClient, KEY_ID), table.tableName, logger);

    // Act
    const response = await handler(cfnEvent('Create', table.tableName));

    // Assess
    expect(response).toEqual({ PhysicalResourceId: `${table.tableName}/pepper`, Data: { PepperVersion: 1 } });
    const peppers = await table.store.listPeppers();
    expect(peppers.map((p) => p.version)).toEqual([1]);
    expect(kms).toReceiveCommandExactlyOnceWith(GenerateDataKeyWithoutPlaintextCommand, {
      KeyId: KEY_ID,
      KeySpec: 'AES_256',
      EncryptionContext: { purpose: 'latchkey-pepper', version: '1' },
    });
  });

  it('keeps the existing pepper on Update (same physical id, no new version, no KMS call)', async () => {
    // Prepare
    const table = await createTestTable();
    const handler = createPepperInitHandler(table.store, new KmsSecrets(kmsClient, KEY_ID), table.tableName, logger);
    await handler(cfnEvent('Create', table.tableName));
    const [created] = await table.store.listPeppers();
    kms.resetHistory();

    // Act
    const response = await handler(cfnEvent('Update', table.tableName));

    // Assess
    expect(response).toEqual({ PhysicalResourceId: `${table.tableName}/pepper`, Data: { PepperVersion: 1 } });
    const peppers = await table.store.listPeppers();
    expect(peppers).toHaveLength(1);
    expect(Buffer.from(peppers[0]!.ciphertext)).toEqual(Buffer.from(created!.ciphertext));
    expect(kms).not.toHaveReceivedCommand(GenerateDataKeyWithoutPlaintextCommand);
  });

  it('provisions a pepper on Update when the table has none (the stack was pointed at a new table)', async () => {
    // Prepare
    const table = await createTestTable();
    const handler = createPepperInitHandler(table.store, new KmsSecrets(kmsClient, KEY_ID), table.tableName, logger);

    // Act
    await handler(cfnEvent('Update', table.tableName));

    // Assess
    expect((await table.store.listPeppers()).map((p) => p.version)).toEqual([1]);
  });

  it('never deletes the pepper on Delete: every stored digest depends on it', async () => {
    // Prepare
    const table = await createTestTable();
    const handler = createPepperInitHandler(table.store, new KmsSecrets(kmsClient, KEY_ID), table.tableName, logger);
    await handler(cfnEvent('Create', table.tableName));
    const before = await table.store.listPeppers();
    kms.resetHistory();

    // Act
    const response = await handler(cfnEvent('Delete', table.tableName));

    // Assess
    expect(response).toEqual({ PhysicalResourceId: `${table.tableName}/pepper` });
    expect(await table.store.listPeppers()).toEqual(before);
    expect(kms).not.toHaveReceivedAnyCommand();
  });

  it('fails the deployment when KMS fails, leaving no pepper behind', async () => {
    // Prepare
    const table = await createTestTable();
    kms.on(GenerateDataKeyWithoutPlaintextCommand).rejects(new Error('AccessDeniedException'));
    const handler = createPepperInitHandler(table.store, new KmsSecrets(kmsClient, KEY_ID), table.tableName, logger);

    // Act
    const outcome = handler(cfnEvent('Create', table.tableName));

    // Assess
    await expect(outcome).rejects.toThrow('AccessDeniedException');
    expect(await table.store.listPeppers()).toEqual([]);
  });
});
