import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DecryptCommand,
  type DecryptCommandInput,
  EncryptCommand,
  type EncryptCommandInput,
  GenerateDataKeyWithoutPlaintextCommand,
  type GenerateDataKeyWithoutPlaintextCommandInput,
  KMSClient,
} from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';

/** Calls (or units) seen at an SDK client, by operation name. */
export class CallCounter {
  readonly #counts = new Map<string, number>();

  record(operation: string): void {
    this.add(operation, 1);
  }

  add(operation: string, amount: number): void {
    this.#counts.set(operation, (this.#counts.get(operation) ?? 0) + amount);
  }

  get total(): number {
    let sum = 0;
    for (const count of this.#counts.values()) sum += count;
    return sum;
  }

  count(operation: string): number {
    return this.#counts.get(operation) ?? 0;
  }

  snapshot(): Readonly<Record<string, number>> {
    return Object.fromEntries(this.#counts);
  }

  reset(): void {
    this.#counts.clear();
  }
}

export interface CountedDynamoDb {
  readonly raw: DynamoDBClient;
  readonly documentClient: DynamoDBDocumentClient;
  readonly calls: CallCounter;
  /** Capacity units the table reported, by operation (only with `consumedCapacity`). */
  readonly capacityUnits: CallCounter;
}

function capacityUnitsOf(output: unknown): number {
  if (typeof output !== 'object' || output === null || !('ConsumedCapacity' in output)) return 0;
  const consumed: unknown = output.ConsumedCapacity;
  const entries: unknown[] = Array.isArray(consumed) ? consumed : [consumed];
  let units = 0;
  for (const entry of entries) {
    if (typeof entry === 'object' && entry !== null && 'CapacityUnits' in entry && typeof entry.CapacityUnits === 'number') {
      units += entry.CapacityUnits;
    }
  }
  return units;
}

/**
 * A real DynamoDB client for DynamoDB Local with a middleware in its stack that counts every
 * request it sends. It sits in the `deserialize` step, inside the retry middleware, so a
 * retried request counts once per attempt: the figure is round trips, not commands. The
 * document client shares the raw client's stack, so its calls are counted too.
 */
export function countedDynamoDb(endpoint: string, options: { readonly consumedCapacity?: boolean } = {}): CountedDynamoDb {
  const raw = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const calls = new CallCounter();
  raw.middlewareStack.add(
    (next, context) => (args) => {
      calls.record(String(context.commandName).replace(/Command$/, ''));
      return next(args);
    },
    { step: 'deserialize', name: 'latchkeyBenchRoundTripCounter' },
  );
  const capacityUnits = new CallCounter();
  if (options.consumedCapacity === true) {
    // Asks the table what each request consumed (read and write request units: what on-demand bills).
    raw.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as Record<string, unknown>;
        input.ReturnConsumedCapacity = 'TOTAL';
        const result = await next(args);
        capacityUnits.add(String(context.commandName).replace(/Command$/, ''), capacityUnitsOf(result.output));
        return result;
      },
      { step: 'initialize', name: 'latchkeyBenchConsumedCapacity' },
    );
  }
  const documentClient = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  return { raw, documentClient, calls, capacityUnits };
}

export interface CountedKms {
  readonly client: KMSClient;
  readonly calls: CallCounter;
  restore(): void;
}

/**
 * There is no KMS here, so the KMS client's `send` is replaced (aws-sdk-client-mock) by a
 * stand-in that behaves like KMS for the three operations KmsSecrets uses: ciphertexts are
 * opaque handles, every call must name the one key, and Decrypt checks the encryption context
 * a ciphertext was made with.
 * Each call is counted where KmsSecrets hands it to the client.
 */
export function countedKms(keyId: string): CountedKms {
  const client = new KMSClient({ region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const stub = mockClient(client);
  const calls = new CallCounter();
  const sealed = new Map<string, { readonly plaintext: Uint8Array; readonly context: string }>();
  const contextOf = (context: Record<string, string> | undefined): string =>
    JSON.stringify(Object.entries(context ?? {}).sort(([a], [b]) => a.localeCompare(b)));
  const checkKey = (requested: string | undefined): void => {
    if (requested !== keyId) throw new Error(`NotFoundException: no KMS key ${String(requested)}`);
  };
  const seal = (plaintext: Uint8Array, context: Record<string, string> | undefined): Uint8Array => {
    const handle = randomBytes(48);
    sealed.set(handle.toString('hex'), { plaintext, context: contextOf(context) });
    return handle;
  };

  stub.on(GenerateDataKeyWithoutPlaintextCommand).callsFake((input: GenerateDataKeyWithoutPlaintextCommandInput) => {
    calls.record('GenerateDataKeyWithoutPlaintext');
    checkKey(input.KeyId);
    return { CiphertextBlob: seal(randomBytes(32), input.EncryptionContext), KeyId: keyId };
  });
  stub.on(EncryptCommand).callsFake((input: EncryptCommandInput) => {
    calls.record('Encrypt');
    checkKey(input.KeyId);
    if (input.Plaintext === undefined) throw new Error('Encrypt without plaintext');
    return { CiphertextBlob: seal(input.Plaintext, input.EncryptionContext), KeyId: keyId };
  });
  stub.on(DecryptCommand).callsFake((input: DecryptCommandInput) => {
    calls.record('Decrypt');
    checkKey(input.KeyId);
    const entry = input.CiphertextBlob === undefined ? undefined : sealed.get(Buffer.from(input.CiphertextBlob).toString('hex'));
    if (entry === undefined || entry.context !== contextOf(input.EncryptionContext)) throw new Error('InvalidCiphertextException');
    return { Plaintext: entry.plaintext, KeyId: keyId };
  });
  return {
    client,
    calls,
    restore: () => {
      stub.restore();
    },
  };
}
