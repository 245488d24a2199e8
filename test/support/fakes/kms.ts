import { randomBytes } from 'node:crypto';
import {
  type DecryptCommandInput,
  type DecryptCommandOutput,
  type EncryptCommandInput,
  type EncryptCommandOutput,
  type GenerateDataKeyWithoutPlaintextCommandInput,
  type GenerateDataKeyWithoutPlaintextCommandOutput,
  InvalidCiphertextException,
  NotFoundException,
} from '@aws-sdk/client-kms';

type Output<T> = Omit<T, '$metadata'>;

/**
 * KMS has no emulator here. This stand-in behaves as KMS does for the three calls Latchkey
 * makes: ciphertexts are opaque handles, every call must name the one key, and a ciphertext
 * decrypts only under the encryption context it was made with. Tests and the benchmark wire
 * it behind a mocked KMSClient (aws-sdk-client-mock), each adding what it needs around the
 * calls (fault injection, counting).
 */
export class InMemoryKms {
  readonly keyId: string;
  readonly #sealed = new Map<string, { readonly plaintext: Uint8Array; readonly context: string }>();

  constructor(keyId: string) {
    this.keyId = keyId;
  }

  generateDataKeyWithoutPlaintext(input: GenerateDataKeyWithoutPlaintextCommandInput): Output<GenerateDataKeyWithoutPlaintextCommandOutput> {
    this.#checkKey(input.KeyId);
    return { CiphertextBlob: this.#seal(randomBytes(32), input.EncryptionContext), KeyId: this.keyId };
  }

  encrypt(input: EncryptCommandInput): Output<EncryptCommandOutput> {
    this.#checkKey(input.KeyId);
    if (input.Plaintext === undefined) throw new Error('Encrypt without plaintext');
    return { CiphertextBlob: this.#seal(input.Plaintext, input.EncryptionContext), KeyId: this.keyId };
  }

  decrypt(input: DecryptCommandInput): Output<DecryptCommandOutput> {
    this.#checkKey(input.KeyId);
    const entry = input.CiphertextBlob === undefined ? undefined : this.#sealed.get(Buffer.from(input.CiphertextBlob).toString('hex'));
    if (entry === undefined || entry.context !== contextText(input.EncryptionContext)) {
      throw new InvalidCiphertextException({ message: 'InvalidCiphertextException', $metadata: {} });
    }
    return { Plaintext: entry.plaintext, KeyId: this.keyId };
  }

  #checkKey(requested: string | undefined): void {
    if (requested !== this.keyId) throw new NotFoundException({ message: `no KMS key ${String(requested)}`, $metadata: {} });
  }

  #seal(plaintext: Uint8Array, context: Record<string, string> | undefined): Uint8Array {
    const handle = randomBytes(64);
    this.#sealed.set(handle.toString('hex'), { plaintext, context: contextText(context) });
    return handle;
  }
}

function contextText(context: Record<string, string> | undefined): string {
  return JSON.stringify(Object.entries(context ?? {}).sort(([a], [b]) => a.localeCompare(b)));
}
