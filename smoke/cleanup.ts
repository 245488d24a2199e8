import { randomBytes } from 'node:crypto';
import { stringField, type Keys, type SmokeHttpClient } from './http-client.ts';
import { describeAnswer } from './report.ts';

/**
 * Every user and key the smoke test makes goes through here, so that it can take them all away
 * again: at the end, after a failed check, and on Ctrl-C (main.ts). What stays is the audit
 * trail, which records both the making and the removing.
 */

export type KeyHoldingRole = 'owner' | 'viewer' | 'logs-viewer';

/** A user key the smoke test made: its id and its secret (never printed). */
export interface MadeKey {
  readonly id: string;
  readonly secret: string;
}

/** A refusal to make something: the check that needed it fails with this text. */
export class SetupError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SetupError';
  }
}

/** Ctrl-C came: nothing more is made, and the checks stop at their next request. */
export class InterruptedError extends Error {
  constructor() {
    super('interrupted');
    this.name = 'InterruptedError';
  }
}

export interface CleanupOutcome {
  readonly usersDeleted: number;
  readonly keysDeleted: number;
  /** What could not be deleted, by kind and id (ids are not secrets). */
  readonly leftBehind: readonly string[];
}

/** A name unique enough that two runs against one account never collide (key names are unique per account). */
function runTag(): string {
  return randomBytes(6).toString('hex');
}

export class SmokeLedger {
  readonly #users = new Set<string>();
  readonly #keys = new Set<string>();
  readonly #pending = new Set<Promise<unknown>>();
  readonly #tag = runTag();
  #closed = false;

  /**
   * @param owner the owner's keys, which make and delete everything
   * @param onSecret called with every secret made, before anything could print it
   */
  constructor(
    private readonly client: SmokeHttpClient,
    private readonly owner: Keys,
    private readonly onSecret: (secret: string) => void,
  ) {}

  get closed(): boolean {
    return this.#closed;
  }

  /** A user of this role with a first key. */
  async userWithKey(role: KeyHoldingRole): Promise<{ userId: string; key: MadeKey }> {
    const userId = await this.user(role);
    return { userId, key: await this.key(userId) };
  }

  async user(role: KeyHoldingRole): Promise<string> {
    return this.#making(async () => {
      const answer = await this.client.request('/v1/users', {
        method: 'POST',
        keys: this.owner,
        body: { name: `latchkey smoke ${role}`, email: `latchkey-smoke-${this.#tag}-${role}@example.com`, role },
      });
      const id = stringField(answer, 'id');
      if (id !== undefined) this.#users.add(id);
      if (answer.status !== 201 || id === undefined) throw new SetupError(`the owner could not create a ${role} (POST /v1/users: ${describeAnswer(answer)})`);
      return id;
    });
  }

  async key(userId: string, permissions?: readonly string[]): Promise<MadeKey> {
    return this.#making(async () => {
      const answer = await this.client.request('/v1/api-keys', {
        method: 'POST',
        keys: this.owner,
        body: { name: `latchkey-smoke-${this.#tag}-${String(this.#keys.size + 1)}`, userId, ...(permissions === undefined ? {} : { permissions }) },
      });
      const id = stringField(answer, 'id');
      const secret = stringField(answer, 'secret');
      if (secret !== undefined) this.onSecret(secret);
      if (id !== undefined) this.#keys.add(id);
      if (answer.status !== 201 || id === undefined || secret === undefined) {
        throw new SetupError(`the owner could not create a key (POST /v1/api-keys: ${describeAnswer(answer)})`);
      }
      return { id, secret };
    });
  }

  /** Deletes a key as a check does (the answer is the check's to judge); the ledger forgets it on 204. */
  async deleteKey(keyId: string): Promise<Awaited<ReturnType<SmokeHttpClient['request']>>> {
    this.#throwIfClosed();
    const answer = await this.client.request(`/v1/api-keys/${encodeURIComponent(keyId)}`, { method: 'DELETE', keys: this.owner });
    if (answer.status === 204) this.#keys.delete(keyId);
    return answer;
  }

  /** Stops any further making and deletes everything made, waiting first for makes in flight. */
  async cleanUp(): Promise<CleanupOutcome> {
    this.#closed = true;
    await Promise.allSettled([...this.#pending]);
    const leftBehind: string[] = [];
    let keysDeleted = 0;
    let usersDeleted = 0;
    // Keys first: a user's deletion takes their keys with it, but a key whose user could not be
    // deleted must still go.
    for (const keyId of this.#keys) {
      const answer = await this.client.request(`/v1/api-keys/${encodeURIComponent(keyId)}`, { method: 'DELETE', keys: this.owner });
      if (answer.status === 204) keysDeleted += 1;
      // 404: already gone (a leak report or the user's deletion took it), which is what was wanted.
      else if (answer.status !== 404) leftBehind.push(`key ${keyId} (${describeAnswer(answer)})`);
    }
    this.#keys.clear();
    for (const userId of this.#users) {
      const answer = await this.client.request(`/v1/users/${encodeURIComponent(userId)}`, { method: 'DELETE', keys: this.owner });
      if (answer.status === 204) usersDeleted += 1;
      else if (answer.status !== 404) leftBehind.push(`user ${userId} (${describeAnswer(answer)})`);
    }
    this.#users.clear();
    return { usersDeleted, keysDeleted, leftBehind };
  }

  /** Runs one make, tracked so that the clean-up waits for it and so sees what it made. */
  async #making<T>(make: () => Promise<T>): Promise<T> {
    this.#throwIfClosed();
    const pending = make();
    this.#pending.add(pending);
    try {
      return await pending;
    } finally {
      this.#pending.delete(pending);
    }
  }

  #throwIfClosed(): void {
    if (this.#closed) throw new InterruptedError();
  }
}
