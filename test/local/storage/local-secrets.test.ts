import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalSecrets } from '#local/storage/local-secrets.ts';

describe('LocalSecrets', () => {
  const secrets = new LocalSecrets(randomBytes(32));

  it('round-trips an account key for its own account', async () => {
    // Prepare
    const ciphertext = await secrets.encryptAccountKey('AccountId0000001', 'lka_example');

    // Act
    const plaintext = await secrets.decryptAccountKey('AccountId0000001', ciphertext);

    // Assess
    expect(plaintext).toBe('lka_example');
    expect(Buffer.from(ciphertext).includes(Buffer.from('lka_example'))).toBe(false);
  });

  it('refuses to decrypt one account key for another account', async () => {
    // Prepare
    const ciphertext = await secrets.encryptAccountKey('AccountId0000001', 'lka_example');

    // Act
    const outcome = secrets.decryptAccountKey('AccountId0000002', ciphertext);

    // Assess
    await expect(outcome).rejects.toThrow();
  });

  it('makes a fresh 32-byte pepper per call, decryptable only as its own version', async () => {
    // Prepare
    const first = await secrets.generatePepper(1);
    const second = await secrets.generatePepper(1);

    // Act
    const pepper = await secrets.decryptPepper(1, first);
    const other = await secrets.decryptPepper(1, second);
    const asVersion2 = secrets.decryptPepper(2, first);

    // Assess
    expect(pepper).toHaveLength(32);
    expect(Buffer.from(pepper).equals(Buffer.from(other))).toBe(false);
    await expect(asVersion2).rejects.toThrow();
  });

  it('keeps peppers and account keys apart', async () => {
    // Prepare
    const pepper = await secrets.generatePepper(1);
    const accountKey = await secrets.encryptAccountKey('1', 'lka_example');

    // Act / Assess
    await expect(secrets.decryptAccountKey('1', pepper)).rejects.toThrow();
    await expect(secrets.decryptPepper(1, accountKey)).rejects.toThrow();
  });

  it('uses a random IV: the same plaintext never encrypts to the same bytes', async () => {
    // Act
    const a = await secrets.encryptAccountKey('AccountId0000001', 'lka_example');
    const b = await secrets.encryptAccountKey('AccountId0000001', 'lka_example');

    // Assess
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  it('refuses tampered ciphertext and ciphertext made under another master key', async () => {
    // Prepare
    const ciphertext = Buffer.from(await secrets.encryptAccountKey('AccountId0000001', 'lka_example'));
    const tampered = Buffer.from(ciphertext);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;

    // Act / Assess
    await expect(secrets.decryptAccountKey('AccountId0000001', tampered)).rejects.toThrow();
    await expect(new LocalSecrets(randomBytes(32)).decryptAccountKey('AccountId0000001', ciphertext)).rejects.toThrow();
    await expect(secrets.decryptAccountKey('AccountId0000001', ciphertext.subarray(0, 20))).rejects.toThrow(/not a local secrets ciphertext/);
  });

  it('refuses a master key that is not 32 bytes', () => {
    expect(() => new LocalSecrets(randomBytes(16))).toThrow(/32 bytes/);
  });

  describe('fromFile', () => {
    let dir: string;

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'latchkey-local-secrets-'));
    });

    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('creates a random 32-byte master key readable by its owner only, and reuses it', async () => {
      // Prepare
      const path = join(dir, 'nested', 'master.key');

      // Act
      const first = LocalSecrets.fromFile(path);
      const ciphertext = await first.encryptAccountKey('AccountId0000001', 'lka_example');
      const key = readFileSync(path);
      const second = LocalSecrets.fromFile(path);

      // Assess
      expect(key).toHaveLength(32);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(readFileSync(path).equals(key)).toBe(true);
      expect(await second.decryptAccountKey('AccountId0000001', ciphertext)).toBe('lka_example');
    });

    it.skipIf(process.platform === 'win32')('refuses a key file others can read', () => {
      // Prepare
      const path = join(dir, 'master.key');
      writeFileSync(path, randomBytes(32));
      chmodSync(path, 0o644);

      // Act / Assess
      expect(() => LocalSecrets.fromFile(path)).toThrow(/readable by others/);
    });

    it('refuses a key file of the wrong size', () => {
      // Prepare
      const path = join(dir, 'master.key');
      writeFileSync(path, randomBytes(31), { mode: 0o600 });

      // Act / Assess
      expect(() => LocalSecrets.fromFile(path)).toThrow(/not 32 bytes/);
    });
  });

  it('warns once per process, when its master key is kept in a file, that it is for local use only', async () => {
    // Prepare: a fresh module instance, so that the one-time warning has not been given yet.
    vi.resetModules();
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const { LocalSecrets: FreshLocalSecrets } = await import('#local/storage/local-secrets.ts');
    const folder = mkdtempSync(join(tmpdir(), 'latchkey-warn-'));
    const path = join(folder, 'master.key');

    // Act: throw-away keys (`--memory`, the tests) are not worth a warning; a key file is.
    new FreshLocalSecrets(randomBytes(32));
    expect(warn).not.toHaveBeenCalled();
    FreshLocalSecrets.fromFile(path);
    FreshLocalSecrets.fromFile(path);

    // Assess
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/local development only, not a substitute for KMS/);
    warn.mockRestore();
    rmSync(folder, { recursive: true, force: true });
  });
});
