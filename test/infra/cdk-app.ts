import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, Stack, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { expect } from 'vitest';
import { configFromContext } from '#infra/config.ts';
import { addLatchkeyStacks, type LatchkeyStacks } from '#infra/latchkey.ts';

export const TEST_ENV = { account: '123456789012', region: 'eu-west-1' } as const;

export interface SynthesizedLatchkey extends LatchkeyStacks {
  readonly app: App;
  readonly statefulTemplate: Template;
  readonly apiTemplate: Template;
  /** Removes the cloud assembly written under the OS temp folder. */
  cleanup(): void;
}

/**
 * Both stacks built from CDK context exactly as infra/app.ts builds them, without bundling
 * (the tests look at templates, not at the code of the functions).
 */
export function newApp(context: Record<string, unknown> = {}): { app: App; outdir: string } {
  const outdir = mkdtempSync(path.join(tmpdir(), 'latchkey-cdk-test-'));
  const app = new App({
    outdir,
    context: { 'aws:cdk:bundling-stacks': [], ...context },
    // CDK's own CloudFormation template validation takes ~30 s per app; `cdk synth` runs it.
    builtinCloudFormationValidation: false,
  });
  return { app, outdir };
}

export function synthLatchkey(context: Record<string, unknown> = {}): SynthesizedLatchkey {
  const { app, outdir } = newApp(context);
  const stacks = addLatchkeyStacks(app, configFromContext(app.node), TEST_ENV);
  return {
    app,
    ...stacks,
    statefulTemplate: Template.fromStack(stacks.stateful),
    apiTemplate: Template.fromStack(stacks.api),
    cleanup: () => {
      rmSync(outdir, { recursive: true, force: true });
    },
  };
}

/** The logical id a construct's CloudFormation resource gets in its stack. */
export function logicalIdOf(element: CfnElement): string {
  const stack = Stack.of(element);
  return stack.resolve(stack.getLogicalId(element)) as string;
}

/** A resource of a synthesized template. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
}

/** The one method of `httpMethod` on the resource at `routePath` (walking PathPart and ParentId up to the root). */
export function methodAt(template: Template, httpMethod: string, routePath: string): CfnResource {
  const resources = template.findResources('AWS::ApiGateway::Resource') as Record<string, CfnResource>;
  const segments = routePath.split('/').filter((s) => s !== '');
  const matches = Object.entries(template.findResources('AWS::ApiGateway::Method') as Record<string, CfnResource>).filter(([, method]) => {
    if (method.Properties.HttpMethod !== httpMethod) return false;
    let ref = (method.Properties.ResourceId as { Ref?: string }).Ref;
    for (const segment of [...segments].reverse()) {
      const resource = ref === undefined ? undefined : resources[ref];
      if (resource?.Properties.PathPart !== segment) return false;
      ref = (resource.Properties.ParentId as { Ref?: string }).Ref;
    }
    return ref === undefined; // reached the root (a GetAtt of the RestApi)
  });
  expect(matches, `${httpMethod} ${routePath}`).toHaveLength(1);
  return matches[0]![1];
}
