import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Secrets } from '../../shared/ports/secrets.ts';
import { PEPPER_BYTES, accountKeyEncryptionContext, pepperEncryptionContext, type EncryptionContext } from '../../shared/adapters/kms-secrets.ts';

const MASTER_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT_VERSION = 1;

let warned = false;

/**
 * FOR LOCAL USE ONLY, NOT A SUBSTITUTE FOR KMS. Stands in for {@link KmsSecrets} when the
 * stack runs on a developer machine without AWS: AES-256-GCM under a master key that sits in
 * a plain file, so anyone who can read that file can read every secret it protects.
 *
 * It keeps KMS's guarantees that the code relies on: each ciphertext is authenticated, and
 * bound (as additional authenticated data) to the same encryption context KMS would get, so
 * an account key encrypted for one account cannot be decrypted for another, nor as a pepper.
 *
 * Ciphertext layout: format version (1 byte) | IV (12) | GCM tag (16) | encrypted bytes.
 */
export class LocalSecrets implements Secrets {
  readonly #masterKey: Buffer;

  constructor(masterKey: Uint8Array) {
    if (masterKey.length !== MASTER_KEY_BYTES) throw new Error(`the local master key must be ${MASTER_KEY_BYTES} bytes`);
    this.#masterKey = Buffer.from(masterKey);
  }

  /**
   * Reads the master key from `path`, creating a random one (readable by the owner only)
   * the first time. A key file others can read is refused rather than used.
   */
  static fromFile(path: string): LocalSecrets {
    // Only a key kept in a file is worth the warning: a throw-away key (`--memory`, the tests)
    // dies with the process, and a warning on every such start would only teach people to skip it.
    if (!warned) {
      warned = true;
      process.emitWarning(
        'LocalSecrets keeps its master key in a local file: for local development only, not a substitute for KMS',
        { code: 'LATCHKEY_LOCAL_SECRETS' },
      );
    }
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    try {
      // 'wx' fails if the file exists, so two processes starting together keep one key.
      writeFileSync(path, randomBytes(MASTER_KEY_BYTES), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if (!(error instanceof Error && 'code' in error && error.code === 'EEXIST')) throw error;
    }
    if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0) {
      throw new Error(`the local master key file ${path} is readable by others; run: chmod 600 ${path}`);
    }
    const key = readFileSync(path);
    if (key.length !== MASTER_KEY_BYTES) throw new Error(`the local master key file ${path} is not ${MASTER_KEY_BYTES} bytes`);
    return new LocalSecrets(key);
  }

  generatePepper(version: number): Promise<Uint8Array> {
    return settle(() => this.#encrypt(randomBytes(PEPPER_BYTES), pepperEncryptionContext(version)));
  }

  decryptPepper(version: number, ciphertext: Uint8Array): Promise<Uint8Array> {
    return settle(() => this.#decrypt(ciphertext, pepperEncryptionContext(version)));
  }

  encryptAccountKey(accountId: string, accountKey: string): Promise<Uint8Array> {
    return settle(() => this.#encrypt(Buffer.from(accountKey, 'utf8'), accountKeyEncryptionContext(accountId)));
  }

  decryptAccountKey(accountId: string, ciphertext: Uint8Array): Promise<string> {
    return settle(() => this.#decrypt(ciphertext, accountKeyEncryptionContext(accountId)).toString('utf8'));
  }

  #encrypt(plaintext: Uint8Array, context: EncryptionContext): Uint8Array {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#masterKey, iv);
    cipher.setAAD(contextBytes(context));
    const encrypted = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([Buffer.of(FORMAT_VERSION), iv, cipher.getAuthTag(), encrypted]);
  }

  #decrypt(ciphertext: Uint8Array, context: EncryptionContext): Buffer {
    const data = Buffer.from(ciphertext);
    if (data.length < 1 + IV_BYTES + TAG_BYTES || data[0] !== FORMAT_VERSION) throw new Error('not a local secrets ciphertext');
    const iv = data.subarray(1, 1 + IV_BYTES);
    const tag = data.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.#masterKey, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(contextBytes(context));
    decipher.setAuthTag(tag);
    // final() throws when the tag does not verify: wrong key, tampered bytes or another context.
    return Buffer.concat([decipher.update(data.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
  }
}

/** The port is asynchronous: a failure must reject the promise, not throw at the call. */
function settle<T>(work: () => T): Promise<T> {
  return new Promise((resolve) => {
    resolve(work());
  });
}

/** Canonical, unambiguous bytes of a context: sorted [name, value] pairs as JSON. */
function contextBytes(context: EncryptionContext): Buffer {
  const pairs = Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(pairs), 'utf8');
}

