import {
  DecryptCommand,
  type DecryptCommandInput,
  EncryptCommand,
  type EncryptCommandInput,
  GenerateDataKeyWithoutPlaintextCommand,
  type GenerateDataKeyWithoutPlaintextCommandInput,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { InMemoryKms } from './fakes/kms.ts';
import type { FaultInjector } from './resilience-faults.ts';

/**
 * The in-memory KMS behind a mocked client, every call going through the fault injector,
 * numbered alongside the DynamoDB calls.
 */
export const FAKE_KMS_KEY_ID = 'arn:aws:kms:us-east-1:123456789012:key/00000000-1111-2222-3333-444444444444';

/** Returns the function that puts the client's own `send` back. */
export function installFakeKms(client: KMSClient, injector: FaultInjector): () => void {
  const stub = mockClient(client);
  const kms = new InMemoryKms(FAKE_KMS_KEY_ID);
  stub
    .on(GenerateDataKeyWithoutPlaintextCommand)
    .callsFake((input: GenerateDataKeyWithoutPlaintextCommandInput) =>
      injector.run('GenerateDataKeyWithoutPlaintextCommand', input, () => Promise.resolve().then(() => kms.generateDataKeyWithoutPlaintext(input))),
    )
    .on(EncryptCommand)
    .callsFake((input: EncryptCommandInput) => injector.run('EncryptCommand', input, () => Promise.resolve().then(() => kms.encrypt(input))))
    .on(DecryptCommand)
    .callsFake((input: DecryptCommandInput) => injector.run('DecryptCommand', input, () => Promise.resolve().then(() => kms.decrypt(input))));
  return () => {
    stub.restore();
  };
}
