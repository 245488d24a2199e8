import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build, buildSync, type BuildOptions, type OutputFile } from 'esbuild';
import { FAVICON_ASSET, contentTypeOf, type ConsoleAsset, type ConsoleAssets } from '#functions/commons/console-site.ts';
import { PROJECT_ROOT } from '#infra/constructs/latchkey-function.ts';

/**
 * Builds the console (`console/`) with esbuild: one script, one stylesheet, the page that
 * loads them and its icon. Built on demand (by `npm start`, the tests, the bench and `cdk synth`), never
 * committed.
 */

export const CONSOLE_SOURCE = path.join(PROJECT_ROOT, 'console');

const OPTIONS: BuildOptions = {
  entryPoints: [
    { in: path.join(CONSOLE_SOURCE, 'src', 'main.tsx'), out: 'app' },
    { in: path.join(CONSOLE_SOURCE, 'src', 'styles.css'), out: 'app' },
  ],
  outdir: path.join(CONSOLE_SOURCE, 'out'),
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  tsconfig: path.join(CONSOLE_SOURCE, 'tsconfig.json'),
  legalComments: 'none',
  write: false,
  logLevel: 'silent',
};

function assetsOf(outputFiles: readonly OutputFile[]): ConsoleAssets {
  const assets = new Map<string, ConsoleAsset>();
  const page = readFileSync(path.join(CONSOLE_SOURCE, 'index.html'));
  assets.set('index.html', { contentType: 'text/html; charset=utf-8', body: page });
  assets.set(FAVICON_ASSET, { contentType: 'image/svg+xml', body: readFileSync(path.join(CONSOLE_SOURCE, FAVICON_ASSET)) });
  for (const file of outputFiles) {
    const name = path.basename(file.path);
    const contentType = contentTypeOf(name);
    if (contentType === undefined) throw new Error(`unexpected console build output: ${name}`);
    assets.set(name, { contentType, body: Buffer.from(file.contents) });
  }
  return assets;
}

export async function buildConsole(): Promise<ConsoleAssets> {
  const result = await build(OPTIONS);
  return assetsOf(result.outputFiles ?? []);
}

export function buildConsoleSync(): ConsoleAssets {
  return assetsOf(buildSync(OPTIONS).outputFiles ?? []);
}

/** Writes the built console into `directory` (for the deployed function's bundle). */
export function writeConsole(directory: string, assets: ConsoleAssets = buildConsoleSync()): void {
  mkdirSync(directory, { recursive: true });
  for (const [name, asset] of assets) writeFileSync(path.join(directory, name), asset.body);
}
