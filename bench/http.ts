import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon, { type AutocannonResult } from 'autocannon';
import { stopProcess } from '#local/storage/dynamodb-local.ts';
import type { Figure } from './report.ts';
import type { TargetReady } from './http-target.ts';
import { ratio } from './stats.ts';

const GROUP = '5 HTTP';
const DURATION_SECONDS = 5;
const WARMUP_SECONDS = 2;
const CONNECTIONS = 10;
const TARGET_SCRIPT = fileURLToPath(new URL('./http-target.ts', import.meta.url));

interface Target {
  readonly ready: TargetReady;
  stop(): Promise<void>;
}

/** Starts http-target.ts in its own Node process and waits for it to report its port. */
export function startTarget(args: readonly string[]): Promise<Target> {
  const child: ChildProcess = fork(TARGET_SCRIPT, [...args], {
    execArgv: ['--import', 'tsx'],
    // The local runtime logs every request as JSON on stdout: a real write, kept out of the terminal.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
  const stop = (): Promise<void> => stopProcess(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error('the benchmark server did not start within 60 s'));
    }, 60_000);
    child.once('message', (message: TargetReady) => {
      clearTimeout(timer);
      resolve({ ready: message, stop });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the benchmark server exited with code ${String(code)}`));
    });
  });
}

export async function load(url: string, headers: Record<string, string>): Promise<AutocannonResult> {
  const result = await autocannon({
    url,
    headers,
    connections: CONNECTIONS,
    duration: DURATION_SECONDS,
    warmup: { connections: CONNECTIONS, duration: WARMUP_SECONDS },
  });
  // A run that was answered with errors measured the wrong thing (e.g. 401s): refuse it.
  if (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0 || result['2xx'] === 0) {
    throw new Error(`${url}: ${String(result.errors)} errors, ${String(result.timeouts)} timeouts, ${String(result.non2xx)} non-2xx answers`);
  }
  return result;
}

export interface HttpRun {
  readonly name: string;
  readonly requestsPerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly requests: number;
}

export interface HttpResult {
  readonly figures: readonly Figure[];
  readonly details: { readonly connections: number; readonly durationSeconds: number; readonly runs: readonly HttpRun[] };
}

export function summary(name: string, result: AutocannonResult): HttpRun {
  return {
    name,
    requestsPerSecond: result.requests.average,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    requests: result['2xx'],
  };
}

/**
 * `GET /v1/whoami` through the local runtime over loopback, with the authorizer cache on (TTL
 * 300 s: after the first request every request is a hit) and off (TTL 0: every request runs the
 * authorizer and its DynamoDB read), beside node:http answering the same JSON.
 */
export async function benchHttp(endpoint: string): Promise<HttpResult> {
  const runs: HttpRun[] = [];
  let body: { status: number; contentType: string; text: string } | undefined;
  // The per-account limiter on (as `npm start` runs) with a plan too large to throttle, and off
  // with the cache on, in the same run: what applying plans costs.
  for (const [ttl, limiter] of [
    [300, 'limiter-on'],
    [0, 'limiter-on'],
    [300, 'limiter-off'],
  ] as const) {
    const target = await startTarget(['local-runtime', endpoint, `latchkey-bench-http-ttl${String(ttl)}-${limiter}`, String(ttl), limiter]);
    try {
      if (target.ready.kind !== 'local-runtime') throw new Error('unexpected benchmark server');
      const url = `http://127.0.0.1:${String(target.ready.port)}/v1/whoami`;
      const headers = { 'x-api-key': target.ready.accountKey, 'x-api-secret-key': target.ready.userKey };
      if (body === undefined) {
        const probe = await fetch(url, { headers });
        body = { status: probe.status, contentType: probe.headers.get('content-type') ?? 'application/json', text: await probe.text() };
        if (probe.status !== 200) throw new Error(`whoami answered ${String(probe.status)}`);
      }
      const name = `local runtime, authorizer cache ${ttl > 0 ? `on (TTL ${String(ttl)} s)` : 'off (TTL 0)'}${limiter === 'limiter-off' ? ', limiter off' : ''}`;
      runs.push(summary(name, await load(url, headers)));
    } finally {
      await target.stop();
    }
  }
  if (body === undefined) throw new Error('no whoami answer to serve');
  const bare = await startTarget(['bare', String(body.status), body.contentType, body.text]);
  try {
    runs.push(summary('bare node:http, same JSON', await load(`http://127.0.0.1:${String(bare.ready.port)}/v1/whoami`, {})));
  } finally {
    await bare.stop();
  }

  const [cached, uncached, unlimited, baseline] = runs as [HttpRun, HttpRun, HttpRun, HttpRun];
  const method = `autocannon ${String(CONNECTIONS)} connections, ${String(DURATION_SECONDS)} s after ${String(WARMUP_SECONDS)} s warm-up, 127.0.0.1; server in its own process; every answer checked 2xx`;
  const figures: Figure[] = [];
  for (const run of runs) {
    figures.push({ group: GROUP, name: `${run.name}: requests/s`, value: run.requestsPerSecond, unit: '/s', method: `${method}; ${run.requests.toLocaleString('en-US')} requests` });
    figures.push({ group: GROUP, name: `${run.name}: p99 latency`, value: run.latencyMs.p99, unit: 'ms', method: `same run; median ${run.latencyMs.p50.toFixed(2)} ms` });
  }
  figures.push({ group: GROUP, name: 'cache on / bare node:http (requests/s)', value: ratio(cached.requestsPerSecond, baseline.requestsPerSecond), unit: 'x', method: 'ratio of the requests/s above, same run' });
  figures.push({
    group: GROUP,
    name: 'limiter on / limiter off, cache on (requests/s)',
    value: ratio(cached.requestsPerSecond, unlimited.requestsPerSecond),
    unit: 'x',
    method: 'ratio of the requests/s above, same run; a plan too large to throttle, so every request passes the limiter; goal at least 0.95',
  });
  figures.push({ group: GROUP, name: 'cache off / bare node:http (requests/s)', value: ratio(uncached.requestsPerSecond, baseline.requestsPerSecond), unit: 'x', method: 'ratio of the requests/s above, same run' });
  return { figures, details: { connections: CONNECTIONS, durationSeconds: DURATION_SECONDS, runs } };
}
