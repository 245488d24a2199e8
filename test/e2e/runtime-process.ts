import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '#local/storage/dynamodb-local.ts';
import type { Credentials } from './support.ts';

/** `npm start` as a user runs it, in a child process (see npm-start.test.ts). */

export const STARTUP_MS = 150_000;

export interface Started {
  readonly child: ChildProcess;
  readonly port: number;
  readonly output: () => string;
  readonly keys: Credentials | undefined;
  readonly dynamodbPort: number;
  readonly javaPid: number;
}

export const children: ChildProcess[] = [];

/** How the runtime is started: by default this repository's `npm start`, here. */
export interface RuntimeCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
}

const NPM_START: RuntimeCommand = { command: 'node', args: ['--import', 'tsx', 'local/process/main.ts'] };

export async function startRuntime(args: readonly string[], dataDir: string, how: RuntimeCommand = NPM_START): Promise<Started> {
  const port = await freePort();
  const child = spawn(how.command, [...how.args, '--port', String(port), ...args], {
    env: { ...process.env, LATCHKEY_LOCAL_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(how.cwd === undefined ? {} : { cwd: how.cwd }),
  });
  children.push(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`no start within ${STARTUP_MS} ms:\n${output}`));
    }, STARTUP_MS);
    const check = (): void => {
      if (output.includes('OpenAPI document:')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${String(code)} before starting:\n${output}`));
    });
  });
  const accountKey = /^export LATCHKEY_ACCOUNT_KEY=(\S+)$/m.exec(output)?.[1];
  const userKey = /^export LATCHKEY_USER_KEY=(\S+)$/m.exec(output)?.[1];
  const dynamodbPort = Number(/DynamoDB Local at http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
  const javaPid = Number(javaChildOf(child.pid ?? 0));
  return {
    child,
    port,
    output: () => output,
    keys: accountKey !== undefined && userKey !== undefined ? { accountKey, userKey } : undefined,
    dynamodbPort,
    javaPid,
  };
}

export function stopRuntime(started: Pick<Started, 'child'>, signal: NodeJS.Signals): Promise<number | null> {
  return new Promise((resolve) => {
    if (started.child.exitCode !== null) {
      resolve(started.child.exitCode);
      return;
    }
    started.child.once('exit', (code) => {
      resolve(code);
    });
    started.child.kill(signal);
  });
}

/**
 * The id of the DynamoDB Local process this process started, if it has one now: by its jar,
 * since the runtime first runs a short-lived `java -version` too.
 */
export function javaChildOf(pid: number): number | undefined {
  let listing: string;
  try {
    listing = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' });
  } catch {
    // ps exits 1 when the process has no children.
    return undefined;
  }
  const line = listing.split('\n').find((entry) => entry.includes('DynamoDBLocal.jar'));
  return line === undefined ? undefined : Number(line.trim().split(/\s+/)[0]);
}

/** Whether a process with this id is still there (signal 0 tests without sending). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
