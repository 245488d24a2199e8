import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { PROJECT_ROOT } from './constructs/latchkey-function.ts';

/**
 * `npm pack` (prepack): the package's library entries as JavaScript with declarations, so that
 * a team's CDK app loads them with plain Node. The function sources (functions/, shared/) ship
 * as they are: the team's CDK bundles them with esbuild at synth, like this repository does.
 */

const DIST = path.join(PROJECT_ROOT, 'dist');
/** Package entry -> source. `latchkey/lambda` is the typed principal for a team's Lambda backends. */
const ENTRIES: Readonly<Record<string, string>> = {
  index: 'infra/index.ts',
  lambda: 'functions/principal.ts',
};

const manifest = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
};
const installed = [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})];

rmSync(DIST, { recursive: true, force: true });
const entryPoints = Object.fromEntries(Object.entries(ENTRIES).filter(([, source]) => existsSync(path.join(PROJECT_ROOT, source))));
for (const [name, source] of Object.entries(ENTRIES)) {
  if (!(name in entryPoints)) console.warn(`package-build: ${source} does not exist; the package has no '${name}' entry`);
}
await build({
  absWorkingDir: PROJECT_ROOT,
  entryPoints,
  outdir: DIST,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Dependencies stay imports: they are installed beside the package, and the CDK must be the app's own copy.
  external: installed.flatMap((name) => [name, `${name}/*`]),
  logLevel: 'warning',
});

const TYPES = path.join(DIST, 'types');
const buildConfig = path.join(DIST, 'tsconfig.types.json');
writeFileSync(
  buildConfig,
  JSON.stringify({
    extends: '../tsconfig.json',
    compilerOptions: { noEmit: false, declaration: true, emitDeclarationOnly: true, rootDir: '..', outDir: 'types' },
    include: [],
    files: Object.values(entryPoints).map((source) => `../${source}`),
  }),
);
const tsc = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'node_modules/typescript/bin/tsc'), '-p', buildConfig], { cwd: PROJECT_ROOT, stdio: 'inherit' });
rmSync(buildConfig);
if (tsc.status !== 0) throw new Error('package-build: declaration emit failed');

// Declarations keep the sources' specifiers (`#shared/x.ts`, `./y.ts`); point them at the emitted files.
for (const file of walk(TYPES)) {
  const text = readFileSync(file, 'utf8').replace(/(['"])(#shared|#functions|#infra)\/([^'"]+)\.ts\1/g, (_m, quote: string, alias: string, rest: string) => {
    const target = path.join(TYPES, alias.slice(1), `${rest}.js`);
    const relative = path.relative(path.dirname(file), target).split(path.sep).join('/');
    return `${quote}${relative.startsWith('.') ? relative : `./${relative}`}${quote}`;
  });
  writeFileSync(file, text.replace(/(['"])(\.{1,2}\/[^'"]+)\.ts\1/g, '$1$2.js$1'));
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? walk(full) : [full];
  });
}
