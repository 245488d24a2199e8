import { writeFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';

/** One measured figure, with how it was measured: the table and the JSON file show the same rows. */
export interface Figure {
  readonly group: string;
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly method: string;
}

export interface BenchReport {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationSeconds: number;
  readonly machine: {
    readonly cpus: number;
    readonly cpuModel: string;
    readonly memoryGiB: number;
    readonly platform: string;
    readonly node: string;
  };
  readonly figures: readonly Figure[];
  /** Raw measurements behind the figures (all samples summarised, per bundle, per run). */
  readonly details: Readonly<Record<string, unknown>>;
}

export function machine(): BenchReport['machine'] {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    platform: `${platform()} ${release()}`,
    node: process.version,
  };
}

export function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return 'n/a';
  const digits = unit === 'calls' || Number.isInteger(value) ? 0 : Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  const text = value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  if (unit === 'calls') return `${text} ${value === 1 ? 'call' : 'calls'}`;
  return unit === '' ? text : unit === 'x' ? `${text}x` : `${text} ${unit}`;
}

/** A Markdown table, so that a run can be pasted into docs/performance.md as it is. */
export function renderTable(figures: readonly Figure[]): string {
  const header = ['group', 'figure', 'value', 'method'];
  const rows = figures.map((f) => [f.group, f.name, formatValue(f.value, f.unit), f.method.replaceAll('|', '\\|')]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export function writeReport(path: string, report: BenchReport): void {
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
}
