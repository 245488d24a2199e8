/** KMS (or the local runtime's stand-in): peppers and account keys are stored only as its ciphertext. */
export interface Secrets {
  /** A new random 32-byte pepper, returned only as ciphertext bound to its version. */
  generatePepper(version: number): Promise<Uint8Array>;
  decryptPepper(version: number, ciphertext: Uint8Array): Promise<Uint8Array>;
  /** Account keys are encrypted with a context bound to their account. */
  encryptAccountKey(accountId: string, accountKey: string): Promise<Uint8Array>;
  decryptAccountKey(accountId: string, ciphertext: Uint8Array): Promise<string>;
}
