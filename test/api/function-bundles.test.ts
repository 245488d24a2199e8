import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '#infra/constructs/latchkey-function.ts';
import { FUNCTION_GROUPS, type FunctionGroup } from '#shared/http/routes.ts';

/**
 * Each management function bundles only its own routes: its group's operations and schemas,
 * and the SDK clients its use cases call. A bundle that carried every route's code had loaded
 * in up to twice the time of the SDK clients alone (bench group 3).
 */

const SDK_CLIENTS = ['client-dynamodb', 'client-kms', 'client-api-gateway'] as const;
type SdkClient = (typeof SDK_CLIENTS)[number];

/** What each group's use cases call: peppers (issuing, rolling, checking leaks) and account keys need KMS, usage plans API Gateway. */
const CLIENTS_OF_GROUP: Readonly<Record<FunctionGroup, readonly SdkClient[]>> = {
  whoami: ['client-dynamodb'],
  account: ['client-dynamodb', 'client-kms', 'client-api-gateway'],
  users: ['client-dynamodb'],
  'api-keys': ['client-dynamodb', 'client-kms'],
  'cidr-allow-list': ['client-dynamodb'],
  logs: ['client-dynamodb'],
  'leaked-keys': ['client-dynamodb', 'client-kms'],
};

async function bundledInputs(group: FunctionGroup): Promise<readonly string[]> {
  // As the stack bundles it (infra/constructs/latchkey-function.ts): everything inlined, the AWS SDK too.
  const result = await build({
    entryPoints: [`functions/${group}.ts`],
    absWorkingDir: PROJECT_ROOT,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    mainFields: ['module', 'main'],
    external: [],
    write: false,
    outdir: 'out',
    logLevel: 'silent',
    metafile: true,
  });
  return Object.keys(result.metafile.inputs);
}

describe('a management function bundle', () => {
  it.each(FUNCTION_GROUPS)('functions/%s.ts carries its own operations and schemas and no other group\'s', async (group) => {
    // Act
    const inputs = await bundledInputs(group);

    // Assess
    const operations = inputs.filter((input) => input.startsWith('functions/operations/'));
    expect(operations).toEqual([`functions/operations/${group}.ts`]);
    expect(inputs).toContain(`shared/http/schemas/${group}.ts`);
    // The whole API's schemas (and the OpenAPI document) are for the local runtime and the tests.
    expect(inputs).not.toContain('shared/http/schemas.ts');
    expect(inputs).not.toContain('shared/http/openapi.ts');
    const otherGroups = FUNCTION_GROUPS.filter((other) => other !== group);
    // The api-keys schemas take the CIDR rule's view for each key's allow list.
    const sharedWith = group === 'api-keys' ? ['cidr-allow-list'] : [];
    for (const other of otherGroups.filter((g) => !sharedWith.includes(g))) {
      expect(inputs).not.toContain(`shared/http/schemas/${other}.ts`);
    }
  });

  it.each(FUNCTION_GROUPS)('functions/%s.ts carries only the SDK clients its use cases call', async (group) => {
    // Act
    const inputs = await bundledInputs(group);

    // Assess
    const clients = SDK_CLIENTS.filter((client) => inputs.some((input) => input.includes(`node_modules/@aws-sdk/${client}/`)));
    expect(clients).toEqual(CLIENTS_OF_GROUP[group]);
  });
});
