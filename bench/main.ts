import './environment.ts';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startDynamoDbLocal, type DynamoDbLocal } from '#local/storage/dynamodb-local.ts';
import { benchBundles } from './bundles.ts';
import { benchCalls } from './calls.ts';
import { benchConsole } from './console.ts';
import { benchCost } from './cost.ts';
import { benchDecision } from './decision.ts';
import { benchDownstream } from './downstream.ts';
import { warmDynamoDbLocal } from './dynamodb-warmup.ts';
import { benchHttp } from './http.ts';
import { type Figure, machine, renderTable, writeReport } from './report.ts';
import { benchRevocation } from './revocation.ts';
import { benchScale } from './scale.ts';

/**
 * `npm run bench`: measures the authorizer and the local runtime on this machine and prints
 * one table (each figure with how it was measured), also written to bench/results.json.
 * `--only 1,3` runs some groups; `--out <file>` writes the JSON elsewhere.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const USAGE = 'Usage: npm run bench -- [--only 1,2,3,4,5,6,7,8,9] [--out bench/results.json]';

interface Group {
  readonly id: number;
  readonly title: string;
  readonly needsDynamoDb: boolean;
  run(endpoint: string): Promise<{ readonly figures: readonly Figure[]; readonly details: unknown }>;
}

// Run order: the CPU-only groups before DynamoDB Local starts, the longest load last.
const GROUPS: readonly Group[] = [
  { id: 1, title: 'authorizer decision in-process', needsDynamoDb: false, run: () => benchDecision() },
  { id: 3, title: 'bundles and cold load', needsDynamoDb: false, run: () => benchBundles(ROOT) },
  { id: 2, title: 'calls per authorization', needsDynamoDb: true, run: (endpoint) => benchCalls(endpoint) },
  { id: 6, title: 'function durations and cost inputs', needsDynamoDb: true, run: (endpoint) => benchCost(endpoint) },
  { id: 5, title: 'HTTP through the local runtime', needsDynamoDb: true, run: (endpoint) => benchHttp(endpoint) },
  { id: 4, title: 'scale: 10 vs 100,000 keys, listing', needsDynamoDb: true, run: (endpoint) => benchScale(endpoint) },
  { id: 7, title: 'downstream traffic and the policy size', needsDynamoDb: true, run: (endpoint) => benchDownstream(endpoint) },
  { id: 8, title: 'console: size and time to the key table', needsDynamoDb: true, run: (endpoint) => benchConsole(endpoint) },
  { id: 9, title: 'revocation bound (stream -> flush)', needsDynamoDb: true, run: (endpoint) => benchRevocation(endpoint) },
];

function selectedGroups(only: string | undefined): readonly Group[] {
  if (only === undefined) return GROUPS;
  const ids = only.split(',').map((part) => Number(part.trim()));
  const unknown = ids.filter((id) => !GROUPS.some((group) => group.id === id));
  if (unknown.length > 0 || ids.length === 0) throw new Error(`--only takes group numbers 1 to 9\n${USAGE}`);
  return GROUPS.filter((group) => ids.includes(group.id));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { only: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', default: false } },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const groups = selectedGroups(values.only);
  const out = values.out ?? join(ROOT, 'bench', 'results.json');

  const startedAt = new Date();
  const loadBefore = loadavg();
  const figures: Figure[] = [];
  const details: Record<string, unknown> = {};
  let dynamoDb: DynamoDbLocal | undefined;
  try {
    for (const group of groups) {
      if (group.needsDynamoDb && dynamoDb === undefined) {
        console.error('starting DynamoDB Local and warming its JIT…');
        dynamoDb = await startDynamoDbLocal();
        details.dynamoDbLocalWarmup = await warmDynamoDbLocal(dynamoDb.endpoint);
      }
      console.error(`${String(group.id)}. ${group.title}…`);
      const groupStarted = performance.now();
      const result = await group.run(dynamoDb?.endpoint ?? '');
      figures.push(...result.figures);
      details[`group${String(group.id)}`] = result.details;
      console.error(`   done in ${((performance.now() - groupStarted) / 1000).toFixed(1)} s`);
    }
  } finally {
    await dynamoDb?.stop();
  }

  const finishedAt = new Date();
  figures.sort((a, b) => a.group.localeCompare(b.group, 'en', { numeric: true }));
  const report = {
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationSeconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
    machine: machine(),
    details: { ...details, loadAverage: { before: loadBefore, after: loadavg() } },
    figures,
  };
  writeReport(out, report);
  console.log(`Latchkey benchmark, ${report.startedAt}, ${report.machine.node}, ${String(report.machine.cpus)} × ${report.machine.cpuModel}`);
  console.log(
    `load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${report.durationSeconds.toFixed(0)} s in all`,
  );
  console.log('');
  console.log(renderTable(figures));
  console.log('');
  console.log(`written to ${out}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
