import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { type ICommandHooks, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/**
 * The folder of Latchkey's package.json: the repository, or `node_modules/latchkey` once
 * installed (where this file is bundled into `dist/`, so the depth differs).
 */
export const PROJECT_ROOT = packageRoot(path.dirname(fileURLToPath(import.meta.url)));

function packageRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}

/** npm leaves package-lock.json out of a published package; NodejsFunction only needs a file to anchor the project. */
const DEPS_LOCK_FILE = [path.join(PROJECT_ROOT, 'package-lock.json'), path.join(PROJECT_ROOT, 'package.json')].find((file) => existsSync(file));

/**
 * A fresh directory holding `value` as JSON in `file`, for LatchkeyFunction's `bundledDirectory`
 * (copied into the bundle as `to`): data worked out at synth that a handler reads once per
 * container, too large for Lambda's 4 KB environment.
 */
export function bundledJson(to: string, file: string, value: unknown): { readonly from: string; readonly to: string } {
  const from = mkdtempSync(path.join(tmpdir(), `latchkey-${to}-`));
  writeFileSync(path.join(from, file), `${JSON.stringify(value)}\n`);
  return { from, to };
}

/** The Lambda runtime of every function; cdk-nag (AwsSolutions-L1) insists on the newest Node.js. */
export const FUNCTION_RUNTIME = Runtime.NODEJS_24_X;

/** ESM bundles still meet CommonJS dependencies that call `require`; this gives them one. */
const ESM_REQUIRE_BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

export interface LatchkeyFunctionProps {
  /** File under `functions/`, without the extension (the handler export is always `handler`); names the role. */
  readonly entryName: string;
  /**
   * A handler file of the team's own project instead (TypeScript or JavaScript), bundled the same
   * way from the project that holds it (NodejsFunction finds its lock file from the current folder up).
   * @default - `functions/<entryName>.ts` of Latchkey
   */
  readonly entry?: string;
  /** The exported function's name. @default 'handler' */
  readonly handler?: string;
  readonly description: string;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /** @default - no variables besides NODE_OPTIONS */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Map stack traces through the source maps (`--enable-source-maps`). Costs load time at every
   * cold start (about half again the authorizer's, see docs/performance.md).
   * @default true
   */
  readonly sourceMappedStackTraces?: boolean;
  readonly logRetention: RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** A directory copied into the bundle under `to` (files the handler reads at run time). @default - none */
  readonly bundledDirectory?: { readonly from: string; readonly to: string };
}

/**
 * One Node.js function with its own role and log group. The role starts empty (no managed
 * policy): it may write to its own log group and send traces, and the stack adds exactly the
 * data-plane statements the function needs, which the infra tests pin.
 */
export class LatchkeyFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: LatchkeyFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs ${props.entryName}`.slice(0, 1000),
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      ...(props.entry === undefined
        ? { entry: path.join(PROJECT_ROOT, 'functions', `${props.entryName}.ts`), projectRoot: PROJECT_ROOT, depsLockFilePath: DEPS_LOCK_FILE }
        : { entry: path.resolve(props.entry) }),
      handler: props.handler ?? 'handler',
      description: props.description,
      runtime: FUNCTION_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      environment: { ...((props.sourceMappedStackTraces ?? true) ? { NODE_OPTIONS: '--enable-source-maps' } : {}), ...props.environment },
      bundling: {
        // The SDK is bundled (not taken from the runtime): pinned versions, and a smaller, faster cold start.
        externalModules: [],
        minify: true,
        sourceMap: true,
        format: OutputFormat.ESM,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        ...(props.bundledDirectory === undefined ? {} : { commandHooks: copyInto(props.bundledDirectory) }),
      },
    });

    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments and PutTelemetryRecords have no resource-level permissions.',
    });
    Validations.of(this.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason: 'Invoked synchronously (API Gateway or CloudFormation); the caller receives every failure, so there is nothing to dead-letter.',
    });
  }
}

function copyInto(directory: { readonly from: string; readonly to: string }): ICommandHooks {
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (_inputDir: string, outputDir: string) => [`mkdir -p "${outputDir}/${directory.to}"`, `cp -R "${directory.from}/." "${outputDir}/${directory.to}/"`],
  };
}
