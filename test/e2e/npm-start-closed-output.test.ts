import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '#local/storage/dynamodb-local.ts';
import { call, type HttpResult } from './support.ts';
import { STARTUP_MS, children, javaChildOf, processExists, startRuntime, stopRuntime } from './runtime-process.ts';

/**
 * `npm start` whose output nobody reads any more (`npm start | head -2`, its terminal closed,
 * the parent that read it gone): every write to stdout and stderr fails with EPIPE from then
 * on. The runtime must keep serving without spinning on those failures, and still stop on
 * SIGTERM with its DynamoDB Local (DESIGN 13), also when the signal comes while it starts.
 */

const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-closed-output-'));
/** Engines a failing runtime may leave behind, ended here rather than outliving the suite. */
const javaPids: number[] = [];

afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const pid of javaPids) if (processExists(pid)) process.kill(pid, 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** CPU time the process has used so far (user + system), in seconds, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** A request that a runtime stuck in a loop would never answer: failing beats hanging the suite. */
function callWithin(ms: number, port: number, path: string): Promise<HttpResult> {
  return Promise.race([
    call(port, path),
    new Promise<never>((_, reject) => {
      setTimeout(() => {
        reject(new Error(`no answer to ${path} within ${ms} ms`));
      }, ms);
    }),
  ]);
}

/** SIGTERM, then the exit code, or 'still running' if the process has not exited within `ms`. */
function exitWithin(ms: number, child: ChildProcess): Promise<number | null | 'still running'> {
  return Promise.race([
    stopRuntime({ child }, 'SIGTERM'),
    new Promise<'still running'>((resolve) => {
      setTimeout(() => {
        resolve('still running');
      }, ms);
    }),
  ]);
}

describe('npm start with its output closed', () => {
  it(
    'keeps answering without burning CPU, and stops with its DynamoDB Local within 10 s of SIGTERM',
    async () => {
      // Prepare: a runtime whose first lines were read, then both its pipes closed by the reader.
      const started = await startRuntime(['--memory'], join(dataDir, 'memory'));
      const pid = started.child.pid;
      if (pid === undefined) throw new Error('no pid');
      javaPids.push(started.javaPid);
      started.child.stdout?.destroy();
      started.child.stderr?.destroy();

      // Act: a request, whose log line now meets a closed pipe; then the process at rest; then SIGTERM.
      const first = await callWithin(5_000, started.port, '/v1/whoami');
      await new Promise((resolve) => setTimeout(resolve, 200));
      const cpuBefore = cpuSeconds(pid);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const cpuUsed = cpuSeconds(pid) - cpuBefore;
      const second = await callWithin(5_000, started.port, '/v1/whoami');
      const code = await exitWithin(10_000, started.child);

      // Assess
      expect(first.status).toBe(401);
      expect(cpuUsed / 2).toBeLessThan(0.5);
      expect(second.status).toBe(401);
      expect(code).toBe(0);
      expect(processExists(started.javaPid)).toBe(false);
    },
    STARTUP_MS + 30_000,
  );

  it(
    'takes its DynamoDB Local down when SIGTERM comes before it is ready',
    async () => {
      // Prepare: the runtime as npm start runs it, caught while it waits for its engine.
      const child = spawn(process.execPath, ['--import', 'tsx', 'local/process/main.ts', '--memory', '--port', String(await freePort())], {
        env: { ...process.env, LATCHKEY_LOCAL_DIR: join(dataDir, 'starting') },
        stdio: 'ignore',
      });
      children.push(child);
      let javaPid: number | undefined;
      for (let tries = 0; javaPid === undefined && tries < 600; tries += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        javaPid = javaChildOf(child.pid ?? 0);
      }
      if (javaPid === undefined) throw new Error('no DynamoDB Local was started');
      javaPids.push(javaPid);

      // Act
      const signalled = Date.now();
      const code = await exitWithin(10_000, child);
      // Killed as the runtime exits, the engine may take a moment to vanish; 10 s is the bound.
      while (processExists(javaPid) && Date.now() - signalled < 10_000) await new Promise((resolve) => setTimeout(resolve, 100));

      // Assess
      expect(code).toBe(0);
      expect(processExists(javaPid)).toBe(false);
    },
    60_000,
  );
});
