import { randomBytes } from 'node:crypto';
import {
  DecryptCommand,
  type DecryptCommandInput,
  EncryptCommand,
  type EncryptCommandInput,
  GenerateDataKeyWithoutPlaintextCommand,
  type GenerateDataKeyWithoutPlaintextCommandInput,
  InvalidCiphertextException,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import type { FaultInjector } from './resilience-faults.ts';

/**
 * KMS has no emulator here, so its client is mocked (aws-sdk-client-mock) with an in-memory
 * stand-in that behaves as KMS does for the calls Latchkey makes: a ciphertext decrypts only
 * under the key and encryption context it was made with. Every call goes through the fault
 * injector, numbered alongside the DynamoDB calls.
 */
export const FAKE_KMS_KEY_ID = 'arn:aws:kms:us-east-1:123456789012:key/00000000-1111-2222-3333-444444444444';

const contextText = (context: Record<string, string> | undefined): string => JSON.stringify(Object.entries(context ?? {}).sort());

/** Returns the function that puts the client's own `send` back. */
export function installFakeKms(client: KMSClient, injector: FaultInjector): () => void {
  const stub = mockClient(client);
  const stored = new Map<string, { plaintext: Uint8Array; keyId: string; context: string }>();
  const encrypt = (keyId: string | undefined, plaintext: Uint8Array, context: Record<string, string> | undefined): Uint8Array => {
    if (keyId !== FAKE_KMS_KEY_ID) throw new Error('unexpected KMS key');
    const ciphertext = randomBytes(96);
    stored.set(ciphertext.toString('hex'), { plaintext, keyId, context: contextText(context) });
    return ciphertext;
  };
  stub
    .on(GenerateDataKeyWithoutPlaintextCommand)
    .callsFake((input: GenerateDataKeyWithoutPlaintextCommandInput) =>
      injector.run('GenerateDataKeyWithoutPlaintextCommand', input, () =>
        Promise.resolve({ CiphertextBlob: encrypt(input.KeyId, randomBytes(32), input.EncryptionContext), KeyId: FAKE_KMS_KEY_ID }),
      ),
    )
    .on(EncryptCommand)
    .callsFake((input: EncryptCommandInput) =>
      injector.run('EncryptCommand', input, () =>
        Promise.resolve({ CiphertextBlob: encrypt(input.KeyId, input.Plaintext ?? new Uint8Array(), input.EncryptionContext), KeyId: FAKE_KMS_KEY_ID }),
      ),
    )
    .on(DecryptCommand)
    .callsFake((input: DecryptCommandInput) =>
      injector.run('DecryptCommand', input, () => {
        const entry = stored.get(Buffer.from(input.CiphertextBlob ?? new Uint8Array()).toString('hex'));
        if (entry === undefined || entry.keyId !== input.KeyId || entry.context !== contextText(input.EncryptionContext)) {
          return Promise.reject(new InvalidCiphertextException({ message: 'InvalidCiphertextException', $metadata: {} }));
        }
        return Promise.resolve({ Plaintext: entry.plaintext, KeyId: FAKE_KMS_KEY_ID });
      }),
    );
  return () => {
    stub.restore();
  };
}
