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
import { InMemoryKms } from '#test/support/fakes/kms.ts';

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
 * There is no KMS here, so the KMS client's `send` is replaced (aws-sdk-client-mock) by the
 * in-memory KMS of the tests (test/support/fakes/kms.ts), which behaves like KMS for the
 * three operations KmsSecrets uses. Each call is counted where KmsSecrets hands it to the client.
 */
export function countedKms(keyId: string): CountedKms {
  const client = new KMSClient({ region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const stub = mockClient(client);
  const calls = new CallCounter();
  const kms = new InMemoryKms(keyId);
  stub.on(GenerateDataKeyWithoutPlaintextCommand).callsFake((input: GenerateDataKeyWithoutPlaintextCommandInput) => {
    calls.record('GenerateDataKeyWithoutPlaintext');
    return kms.generateDataKeyWithoutPlaintext(input);
  });
  stub.on(EncryptCommand).callsFake((input: EncryptCommandInput) => {
    calls.record('Encrypt');
    return kms.encrypt(input);
  });
  stub.on(DecryptCommand).callsFake((input: DecryptCommandInput) => {
    calls.record('Decrypt');
    return kms.decrypt(input);
  });
  return {
    client,
    calls,
    restore: () => {
      stub.restore();
    },
  };
}
