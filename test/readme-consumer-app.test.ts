import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONSUMER_APP_PAGE, consumerFiles } from '#test/support/consumer-app.ts';

/** Fast checks of the consumer app in docs/your-routes.md; test/e2e/package.test.ts installs and synthesizes it. */
describe('docs/your-routes.md: Put your API behind Latchkey', () => {
  const files = consumerFiles(readFileSync(CONSUMER_APP_PAGE, 'utf8'));

  it('is a whole app: package.json, cdk.json, the CDK app, its routes and the Lambda handler they name', () => {
    expect([...files.keys()].sort()).toEqual(['.gitignore', 'bin/app.ts', 'cdk.json', 'package.json', 'src/hello.ts', 'src/routes.ts', 'tsconfig.json']);
    const manifest = JSON.parse(files.get('package.json') ?? '') as { dependencies: Record<string, string> };
    expect(Object.keys(manifest.dependencies)).toEqual(expect.arrayContaining(['latchkey', 'aws-cdk-lib', 'constructs']));
    expect(JSON.parse(files.get('cdk.json') ?? '')).toMatchObject({ app: expect.stringContaining('bin/app.ts') as unknown });
  });

  it('pins the CDK versions this repository is tested with', () => {
    const ours = JSON.parse(readFileSync('package.json', 'utf8')) as { devDependencies: Record<string, string> };
    const manifest = JSON.parse(files.get('package.json') ?? '') as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    expect(manifest.dependencies['aws-cdk-lib']).toBe(ours.devDependencies['aws-cdk-lib']);
    expect(manifest.dependencies.constructs).toBe(ours.devDependencies.constructs);
    expect(manifest.devDependencies['aws-cdk']).toBe(ours.devDependencies['aws-cdk']);
    // The type packages and the compiler too: the package test installs them offline from this lockfile's versions.
    for (const name of ['@types/aws-lambda', '@types/node', 'typescript']) expect(manifest.devDependencies[name], name).toBe(ours.devDependencies[name]);
  });

  it('installs the package from the tarball `npm pack` makes, named as the page says, until it is on the registry', () => {
    const ours = JSON.parse(readFileSync('package.json', 'utf8')) as { name: string; version: string };
    const manifest = JSON.parse(files.get('package.json') ?? '') as { dependencies: Record<string, string> };
    const tarball = `${ours.name}-${ours.version}.tgz`;
    expect(manifest.dependencies.latchkey).toBe(`file:${tarball}`);
    expect(readFileSync(CONSUMER_APP_PAGE, 'utf8')).toContain(`writes \`${tarball}\``);
  });

  it('keeps the local runtime\'s data, its master key among it, out of the app\'s repository', () => {
    const ignored = (files.get('.gitignore') ?? '').split('\n').map((line) => line.trim());
    expect(ignored).toEqual(expect.arrayContaining(['.latchkey/', 'node_modules/', 'cdk.out/']));
  });

  it('declares one Lambda route on src/hello.ts and one HTTP route, once for `cdk deploy` and `npm start`', () => {
    const routes = files.get('src/routes.ts') ?? '';
    expect(routes).toMatch(/backend: \{ lambda: 'src\/hello\.ts' \}/);
    expect(routes).toMatch(/backend: \{ url: 'https:\/\/[^']+' \}/);
    expect(files.get('src/hello.ts')).toMatch(/export async function handler/);
    expect(files.get('bin/app.ts')).toMatch(/new Latchkey\(stack, 'Latchkey', \{ routes \}\)/);
    const manifest = JSON.parse(files.get('package.json') ?? '') as { scripts: Record<string, string> };
    expect(manifest.scripts.start).toBe('latchkey start --routes src/routes.ts');
  });

  it('reads the caller with the package\'s typed helper, as a team should', () => {
    const hello = files.get('src/hello.ts') ?? '';
    expect(hello).toMatch(/^import \{ principalFromEvent \} from 'latchkey\/lambda';$/m);
    expect(hello).toMatch(/principalFromEvent\(event\)/);
    // Not the raw, unchecked context.
    expect(hello).not.toMatch(/requestContext\.authorizer\s*\?\?/);
  });
});
