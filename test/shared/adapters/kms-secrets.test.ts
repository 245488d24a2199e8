import { randomBytes } from 'node:crypto';
import {
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  InvalidCiphertextException,
  KMSClient,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  ACCOUNT_KEY_ENCRYPTION_CONTEXT_PURPOSE,
  KmsSecrets,
  PEPPER_ENCRYPTION_CONTEXT_PURPOSE,
} from '#shared/adapters/kms-secrets.ts';

const KEY_ID = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';

describe('KmsSecrets', () => {
  const client = new KMSClient({});
  const kms = mockClient(client);
  const secrets = new KmsSecrets(client, KEY_ID);

  beforeEach(() => {
    kms.reset();
  });

  it('has KMS generate the pepper and return it only encrypted, bound to its purpose and version', async () => {
    // Prepare
    const ciphertext = randomBytes(184);
    kms.on(GenerateDataKeyWithoutPlaintextCommand).resolves({ CiphertextBlob: ciphertext, KeyId: KEY_ID });

    // Act
    const result = await secrets.generatePepper(3);

    // Assess
    expect(Buffer.from(result)).toEqual(ciphertext);
    expect(kms).toReceiveCommandExactlyOnceWith(GenerateDataKeyWithoutPlaintextCommand, {
      KeyId: KEY_ID,
      KeySpec: 'AES_256',
      EncryptionContext: { purpose: PEPPER_ENCRYPTION_CONTEXT_PURPOSE, version: '3' },
    });
    expect(kms.calls()).toHaveLength(1);
  });

  it('decrypts a pepper with the key pinned and the context of its version', async () => {
    // Prepare
    const pepper = randomBytes(32);
    const ciphertext = randomBytes(184);
    kms.on(DecryptCommand).resolves({ Plaintext: pepper, KeyId: KEY_ID });

    // Act
    const result = await secrets.decryptPepper(2, ciphertext);

    // Assess
    expect(Buffer.from(result)).toEqual(pepper);
    expect(kms).toReceiveCommandExactlyOnceWith(DecryptCommand, {
      KeyId: KEY_ID,
      CiphertextBlob: ciphertext,
      EncryptionContext: { purpose: PEPPER_ENCRYPTION_CONTEXT_PURPOSE, version: '2' },
    });
  });

  it('refuses a decrypted pepper that is not 32 bytes', async () => {
    // Prepare
    kms.on(DecryptCommand).resolves({ Plaintext: randomBytes(16), KeyId: KEY_ID });

    // Act
    const outcome = secrets.decryptPepper(1, randomBytes(184));

    // Assess
    await expect(outcome).rejects.toThrow(/not 32 bytes/);
  });

  it('encrypts an account key under a context naming its account', async () => {
    // Prepare
    const ciphertext = randomBytes(200);
    kms.on(EncryptCommand).resolves({ CiphertextBlob: ciphertext, KeyId: KEY_ID });

    // Act
    const result = await secrets.encryptAccountKey('AccountId0000001', 'lka_example');

    // Assess
    expect(Buffer.from(result)).toEqual(ciphertext);
    expect(kms).toReceiveCommandExactlyOnceWith(EncryptCommand, {
      KeyId: KEY_ID,
      Plaintext: Buffer.from('lka_example', 'utf8'),
      EncryptionContext: { purpose: ACCOUNT_KEY_ENCRYPTION_CONTEXT_PURPOSE, accountId: 'AccountId0000001' },
    });
  });

  it('decrypts an account key only under its own account context', async () => {
    // Prepare: KMS refuses a context that differs from the one the ciphertext was made with.
    const ciphertext = randomBytes(200);
    kms
      .on(DecryptCommand, { EncryptionContext: { purpose: ACCOUNT_KEY_ENCRYPTION_CONTEXT_PURPOSE, accountId: 'AccountId0000001' } })
      .resolves({ Plaintext: Buffer.from('lka_example', 'utf8'), KeyId: KEY_ID })
      .on(DecryptCommand, { EncryptionContext: { purpose: ACCOUNT_KEY_ENCRYPTION_CONTEXT_PURPOSE, accountId: 'AccountId0000002' } })
      .rejects(new InvalidCiphertextException({ message: 'InvalidCiphertextException', $metadata: {} }));

    // Act
    const own = await secrets.decryptAccountKey('AccountId0000001', ciphertext);
    const other = secrets.decryptAccountKey('AccountId0000002', ciphertext);

    // Assess
    expect(own).toBe('lka_example');
    await expect(other).rejects.toBeInstanceOf(InvalidCiphertextException);
    expect(kms).toReceiveCommandWith(DecryptCommand, { KeyId: KEY_ID, CiphertextBlob: ciphertext });
  });

  it('fails when KMS returns no ciphertext', async () => {
    // Prepare
    kms.on(GenerateDataKeyWithoutPlaintextCommand).resolves({}).on(EncryptCommand).resolves({});

    // Act / Assess
    await expect(secrets.generatePepper(1)).rejects.toThrow(/no ciphertext/);
    await expect(secrets.encryptAccountKey('AccountId0000001', 'k')).rejects.toThrow(/no ciphertext/);
  });

  it('fails when KMS returns no plaintext', async () => {
    // Prepare
    kms.on(DecryptCommand).resolves({});

    // Act / Assess
    await expect(secrets.decryptAccountKey('AccountId0000001', randomBytes(10))).rejects.toThrow(/no plaintext/);
  });
});
