import { DecryptCommand, EncryptCommand, GenerateDataKeyWithoutPlaintextCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { Secrets } from '../ports/secrets.ts';

/**
 * Every ciphertext is bound to what it protects with a KMS encryption context, so that a
 * ciphertext copied to another item (one account's key onto another account, an account key
 * into a pepper slot) fails to decrypt, and so that IAM can grant each function only the
 * purpose it needs: the authorizer may Decrypt only under `purpose=latchkey-pepper`
 * (condition key `kms:EncryptionContext:purpose`).
 */
export const ENCRYPTION_CONTEXT_PURPOSE_KEY = 'purpose';
export const PEPPER_ENCRYPTION_CONTEXT_PURPOSE = 'latchkey-pepper';
export const ACCOUNT_KEY_ENCRYPTION_CONTEXT_PURPOSE = 'latchkey-account-key';
export const PEPPER_BYTES = 32;

export type EncryptionContext = Readonly<Record<string, string>>;

export function pepperEncryptionContext(version: number): EncryptionContext {
  return { [ENCRYPTION_CONTEXT_PURPOSE_KEY]: PEPPER_ENCRYPTION_CONTEXT_PURPOSE, version: String(version) };
}

export function accountKeyEncryptionContext(accountId: string): EncryptionContext {
  return { [ENCRYPTION_CONTEXT_PURPOSE_KEY]: ACCOUNT_KEY_ENCRYPTION_CONTEXT_PURPOSE, accountId };
}

/** Secrets protected by one KMS key; plaintext peppers and account keys exist only in memory. */
export class KmsSecrets implements Secrets {
  readonly #client: KMSClient;
  readonly #keyId: string;

  constructor(client: KMSClient, keyId: string) {
    this.#client = client;
    this.#keyId = keyId;
  }

  /** KMS makes the random bytes and returns them only encrypted: the pepper is never in plaintext outside a decrypting container. */
  async generatePepper(version: number): Promise<Uint8Array> {
    const output = await this.#client.send(
      new GenerateDataKeyWithoutPlaintextCommand({
        KeyId: this.#keyId,
        KeySpec: 'AES_256',
        EncryptionContext: { ...pepperEncryptionContext(version) },
      }),
    );
    if (output.CiphertextBlob === undefined) throw new Error('KMS GenerateDataKeyWithoutPlaintext returned no ciphertext');
    return output.CiphertextBlob;
  }

  async decryptPepper(version: number, ciphertext: Uint8Array): Promise<Uint8Array> {
    const pepper = await this.#decrypt(ciphertext, pepperEncryptionContext(version));
    if (pepper.length !== PEPPER_BYTES) throw new Error(`pepper version ${version} is not ${PEPPER_BYTES} bytes`);
    return pepper;
  }

  async encryptAccountKey(accountId: string, accountKey: string): Promise<Uint8Array> {
    const output = await this.#client.send(
      new EncryptCommand({
        KeyId: this.#keyId,
        Plaintext: Buffer.from(accountKey, 'utf8'),
        EncryptionContext: { ...accountKeyEncryptionContext(accountId) },
      }),
    );
    if (output.CiphertextBlob === undefined) throw new Error('KMS Encrypt returned no ciphertext');
    return output.CiphertextBlob;
  }

  async decryptAccountKey(accountId: string, ciphertext: Uint8Array): Promise<string> {
    const plaintext = await this.#decrypt(ciphertext, accountKeyEncryptionContext(accountId));
    return Buffer.from(plaintext).toString('utf8');
  }

  /** KeyId is pinned on Decrypt so that a ciphertext made under any other key is refused. */
  async #decrypt(ciphertext: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
    const output = await this.#client.send(
      new DecryptCommand({ KeyId: this.#keyId, CiphertextBlob: ciphertext, EncryptionContext: { ...context } }),
    );
    if (output.Plaintext === undefined) throw new Error('KMS Decrypt returned no plaintext');
    return output.Plaintext;
  }
}
