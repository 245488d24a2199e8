import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type BuildOptions } from 'esbuild';
import { FUNCTION_GROUPS } from '#shared/http/routes.ts';
import type { Figure } from './report.ts';
import { median, ratio } from './stats.ts';

const GROUP = '3 cold start';
const LOAD_RUNS = 11;
/** A handler's bundle may load in at most this many times the SDK floor: its own code costs at most a fifth more. */
export const MAX_LOAD_OVER_SDK_FLOOR = 1.2;
const SDK_FLOOR = 'SDK clients alone';
const run = promisify(execFile);

/**
 * The esbuild options NodejsFunction derives from the bundling settings in
 * infra/constructs/latchkey-function.ts (keep the two in step): one ESM file per function with
 * everything inlined, the AWS SDK included, minified, with a linked source map, for the
 * runtime's Node.js version; `require` is provided for the CommonJS dependencies that esbuild
 * keeps as `require` calls.
 */
export const LAMBDA_BUNDLE_OPTIONS: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  minify: true,
  sourcemap: true,
  mainFields: ['module', 'main'],
  external: [],
  banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
  logLevel: 'silent',
};
/** The functions' NODE_OPTIONS in the stack. */
const LAMBDA_NODE_OPTIONS = '--enable-source-maps';

/**
 * Imports the bundle in a fresh process and reports how long the import took. Nothing is
 * invoked: this is the part of a cold start the bundle decides (parse, compile, module-scope
 * code such as SDK client construction), on top of the runtime's own start.
 */
const LOADER = `
const started = performance.now();
const cpuBefore = process.cpuUsage();
await import(process.argv[1]);
const loadedMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
process.stdout.write(JSON.stringify({ loadedMs, loadCpuMs: (cpu.user + cpu.system) / 1000, sinceProcessStartMs: performance.now() }));
`;

export interface BundleMeasurement {
  readonly name: string;
  readonly entry: string;
  readonly nodeOptions: string;
  readonly bytes: number;
  readonly sourceMapBytes: number;
  readonly loadMsRuns: readonly number[];
  readonly loadCpuMsRuns: readonly number[];
  readonly processMsRuns: readonly number[];
  readonly loadMsMedian: number;
  readonly loadCpuMsMedian: number;
  readonly processMsMedian: number;
}

export interface BundlesResult {
  readonly figures: readonly Figure[];
  readonly details: { readonly runs: number; readonly bundles: readonly BundleMeasurement[] };
}

export async function benchBundles(root: string): Promise<BundlesResult> {
  const outdir = mkdtempSync(join(tmpdir(), 'latchkey-bench-bundles-'));
  try {
    const emptyEntry = join(outdir, 'empty-handler.ts');
    writeFileSync(emptyEntry, "export const handler = async (): Promise<{ statusCode: number; body: string }> => ({ statusCode: 200, body: '{}' });\n");
    const entries = [
      { name: 'empty handler', entry: emptyEntry },
      // The floor under every handler: the clients any of them use, bundled and built the same way.
      { name: SDK_FLOOR, entry: resolve(root, 'bench/sdk-clients-floor.ts') },
      { name: 'authorizer', entry: resolve(root, 'functions/authorizer.ts') },
      ...FUNCTION_GROUPS.map((group) => ({ name: group, entry: resolve(root, `functions/${group}.ts`) })),
    ];

    const bundles = [];
    for (const [index, { name, entry }] of entries.entries()) {
      const outfile = join(outdir, `${String(index)}-${name.replaceAll(' ', '-')}.mjs`);
      await build({ ...LAMBDA_BUNDLE_OPTIONS, entryPoints: [entry], outfile, absWorkingDir: root });
      bundles.push({
        name,
        entry,
        outfile,
        // As the stack deploys them: the authorizer without source-mapped stack traces (the
        // floor is loaded as the handlers are, since it is theirs).
        nodeOptions: name === 'authorizer' ? '' : LAMBDA_NODE_OPTIONS,
        bytes: statSync(outfile).size,
        sourceMapBytes: statSync(`${outfile}.map`).size,
        loadMs: [] as number[],
        loadCpuMs: [] as number[],
        processMs: [] as number[],
      });
    }
    // The same authorizer bundle with the handlers' NODE_OPTIONS: what source-mapped stack traces would cost it at load.
    const authorizer = bundles.find((b) => b.name === 'authorizer')!;
    bundles.push({ ...authorizer, name: `${authorizer.name} with ${LAMBDA_NODE_OPTIONS}`, nodeOptions: LAMBDA_NODE_OPTIONS, loadMs: [], loadCpuMs: [], processMs: [] });

    // Round robin, so that drift in the machine's load spreads over every bundle alike.
    for (let i = 0; i < LOAD_RUNS; i += 1) {
      for (const bundle of bundles) {
        const t0 = performance.now();
        const { stdout } = await run(process.execPath, ['--input-type=module', '--eval', LOADER, pathToFileURL(bundle.outfile).href], {
          cwd: outdir,
          env: {
            PATH: process.env.PATH ?? '',
            NODE_OPTIONS: bundle.nodeOptions,
            AWS_REGION: 'us-east-1',
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
            LATCHKEY_TABLE_NAME: 'latchkey-bench',
            LATCHKEY_KMS_KEY_ID: 'alias/latchkey-bench',
          },
        });
        const wallMs = performance.now() - t0;
        const parsed = JSON.parse(stdout) as { loadedMs: number; loadCpuMs: number };
        bundle.loadMs.push(parsed.loadedMs);
        bundle.loadCpuMs.push(parsed.loadCpuMs);
        bundle.processMs.push(wallMs);
      }
    }

    const measurements: BundleMeasurement[] = bundles.map((b) => ({
      name: b.name,
      nodeOptions: b.nodeOptions,
      entry: b.entry,
      bytes: b.bytes,
      sourceMapBytes: b.sourceMapBytes,
      loadMsRuns: b.loadMs,
      loadCpuMsRuns: b.loadCpuMs,
      processMsRuns: b.processMs,
      loadMsMedian: median(b.loadMs),
      loadCpuMsMedian: median(b.loadCpuMs),
      processMsMedian: median(b.processMs),
    }));
    const empty = measurements[0]!;
    const sdkFloor = measurements.find((m) => m.name === SDK_FLOOR)!;
    const handlerGroups = new Set<string>(FUNCTION_GROUPS);
    const sizeMethod = 'esbuild as the stack: node24, ESM, minify, all bundled incl. @aws-sdk, mainFields module,main, createRequire banner; .mjs only (source map apart)';
    const loadMethod = (nodeOptions: string): string =>
      `fresh \`node${nodeOptions === '' ? '' : ` ${nodeOptions}`}\` imports the bundle, nothing invoked; time around import(), median of ${String(LOAD_RUNS)} runs, interleaved`;
    const figures: Figure[] = [];
    for (const m of measurements) {
      // The comparison run loads the authorizer's bundle again: its size is already listed.
      if (!m.name.endsWith(` with ${LAMBDA_NODE_OPTIONS}`)) {
        figures.push({ group: GROUP, name: `${m.name}: bundle size`, value: m.bytes / 1024, unit: 'KiB', method: sizeMethod });
      }
      figures.push({ group: GROUP, name: `${m.name}: load time`, value: m.loadMsMedian, unit: 'ms', method: loadMethod(m.nodeOptions) });
      if (m !== empty) {
        figures.push({ group: GROUP, name: `${m.name}: load / empty handler`, value: ratio(m.loadMsMedian, empty.loadMsMedian), unit: 'x', method: 'ratio of the medians, same run' });
      }
      if (handlerGroups.has(m.name) || m.name === 'authorizer') {
        const goal = handlerGroups.has(m.name) ? ` (goal at most ${String(MAX_LOAD_OVER_SDK_FLOOR)}x)` : '';
        figures.push({
          group: GROUP,
          name: `${m.name}: load / SDK floor${goal}`,
          value: ratio(m.loadMsMedian, sdkFloor.loadMsMedian),
          unit: 'x',
          method: 'ratio of the medians, same run; the floor: the DynamoDB (with its document client), KMS and API Gateway clients built at module scope, nothing else (bench/sdk-clients-floor.ts)',
        });
        // CPU time spent by the loading process: unlike wall time, it hardly moves when other
        // processes compete for the cores, so it is the ratio to read on a busy machine.
        figures.push({
          group: GROUP,
          name: `${m.name}: load CPU / SDK floor${goal}`,
          value: ratio(m.loadCpuMsMedian, sdkFloor.loadCpuMsMedian),
          unit: 'x',
          method: `process.cpuUsage() (user + system, every thread) around the same import(); ratio of the medians, same run; the floor's median ${sdkFloor.loadCpuMsMedian.toFixed(1)} ms`,
        });
      }
    }
    figures.push({
      group: GROUP,
      name: 'node process start to exit, empty handler',
      value: empty.processMsMedian,
      unit: 'ms',
      method: `spawn to exit of the same process, median of ${String(LOAD_RUNS)} (the runtime's own start, for scale)`,
    });
    return { figures, details: { runs: LOAD_RUNS, bundles: measurements } };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
