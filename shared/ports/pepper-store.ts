export interface StoredPepper {
  readonly version: number;
  readonly ciphertext: Uint8Array;
}

/** Where the pepper versions are kept, each only as KMS ciphertext. */
export interface PepperStore {
  listPeppers(): Promise<readonly StoredPepper[]>;
  /** Stores a new version; false if that version already exists (another writer won). */
  addPepper(pepper: StoredPepper): Promise<boolean>;
}
