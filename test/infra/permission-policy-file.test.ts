import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Latchkey } from '#infra/constructs/latchkey.ts';
import { PERMISSION_POLICY_FILE, writePermissionPolicy } from '#infra/constructs/permission-policy-file.ts';
import { ENV } from '#shared/adapters/environment.ts';
import { buildPermissionPolicy, parsePermissionPolicy } from '#shared/authorization/permission-policy.ts';
import { buildRoutePolicy } from '#shared/authorization/route-policy.ts';
import { resolveDownstreamRoutes, type DownstreamRoute } from '#shared/http/team-routes.ts';
import { realisticRoutes } from '#test/support/route-sets.ts';
import { TEST_ENV, newApp } from './cdk-app.ts';

/** The authorizer's permission policy (restricted keys, DESIGN 14) travels in its bundle, named by its environment. */

const ROUTES: readonly DownstreamRoute[] = [
  { method: 'GET', path: '/v1/things', backend: { url: 'https://things.internal.example.com' } },
  { method: 'GET', path: '/v1/things/{thingId}/price', permission: 'prices:read', backend: { url: 'https://things.internal.example.com' } },
];

describe('writePermissionPolicy', () => {
  it('writes what the authorizer reads back, for 300 routes too (no environment could hold it)', () => {
    const resolved = resolveDownstreamRoutes(realisticRoutes(300));
    const routePolicy = buildRoutePolicy(resolved);
    const written = writePermissionPolicy(resolved, routePolicy);
    expect(written?.environment).toEqual({ [ENV.permissionPolicyFile]: PERMISSION_POLICY_FILE });
    const contents = readFileSync(path.join(written?.bundledDirectory.from ?? '', path.basename(PERMISSION_POLICY_FILE)), 'utf8');
    expect(contents.length).toBeGreaterThan(4 * 1024);
    expect(parsePermissionPolicy(contents)).toEqual(buildPermissionPolicy(resolved, routePolicy));
    rmSync(written?.bundledDirectory.from ?? '', { recursive: true, force: true });
  });

  it('writes nothing without team routes: the authorizer builds the management routes\' own', () => {
    expect(writePermissionPolicy([], buildRoutePolicy([]))).toBeUndefined();
  });
});

describe('the authorizer function of a stack with team routes', () => {
  let template: Template;
  let assetFolder: string;
  let cleanup: () => void;

  beforeAll(() => {
    // Bundled for real (esbuild), this stack only: the file must be in the asset Lambda receives.
    const { app, outdir } = newApp({ 'aws:cdk:bundling-stacks': ['TeamApi'] });
    cleanup = () => {
      rmSync(outdir, { recursive: true, force: true });
    };
    const stack = new Stack(app, 'TeamApi', { env: TEST_ENV });
    new Latchkey(stack, 'Latchkey', { routes: ROUTES });
    const assembly = app.synth();
    template = Template.fromStack(stack);
    const functions = Object.values(
      template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { [ENV.permissionPolicyFile]: PERMISSION_POLICY_FILE } } } }),
    ) as { Properties: { Code: { S3Key: string } } }[];
    expect(functions).toHaveLength(1);
    assetFolder = path.join(assembly.directory, `asset.${functions[0]?.Properties.Code.S3Key.replace(/\.zip$/, '') ?? ''}`);
  }, 240_000);
  afterAll(() => {
    cleanup();
  });

  it('names the file in its environment, and only it', () => {
    const functions = template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { [ENV.permissionPolicyFile]: PERMISSION_POLICY_FILE } } } });
    expect(Object.values(functions).map((f) => (f as { Properties: { Description: string } }).Properties.Description)).toEqual([
      'REQUEST authorizer: account key, user key, source IP',
    ]);
  });

  it('carries the file in its bundle, beside its code', () => {
    expect(existsSync(path.join(assetFolder, 'index.mjs'))).toBe(true);
    const policy = parsePermissionPolicy(readFileSync(path.join(assetFolder, PERMISSION_POLICY_FILE), 'utf8'));
    expect(Object.keys(policy.viewer.grants)).toContain('prices:read');
  });
});
