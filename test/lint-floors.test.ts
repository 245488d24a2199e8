import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * The floors between rooms (DESIGN 12) are kept by the linter, not by discipline: an import
 * that crosses one fails `npm run lint`. Each case lints a real file of a room with one
 * crossing import added, through the project's own ESLint configuration.
 */
const eslint = new ESLint({
  ruleFilter: ({ ruleId }) => ruleId === 'no-restricted-imports',
  // The floors need no type information; without it a case takes milliseconds, not seconds.
  overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
});

async function restrictedImports(filePath: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('the floors between rooms', () => {
  it.each([
    ['shared/ importing functions/', 'shared/http/routes.ts', "import '#functions/authorizer.ts';"],
    ['shared/ importing infra/ by a relative path', 'shared/http/routes.ts', "import '../../infra/config.ts';"],
    ['shared/ importing the local runtime by a relative path', 'shared/http/routes.ts', "import '../../local/gateway/gateway.ts';"],
    ['shared/domain/ importing the rest of shared/', 'shared/domain/roles.ts', "import '#shared/http/routes.ts';"],
    ['shared/domain/ importing a sibling room by a relative path', 'shared/domain/roles.ts', "import '../http/routes.ts';"],
    ['functions/ importing infra/', 'functions/whoami.ts', "import '#infra/config.ts';"],
    ['functions/ importing the local runtime', 'functions/whoami.ts', "import '#local/gateway/gateway.ts';"],
    ['infra/ importing the admin CLI', 'infra/latchkey.ts', "import '#admin/main.ts';"],
    ['console/ importing shared/ outside the domain', 'console/src/format.ts', "import '../../shared/http/routes.ts';"],
    ['smoke/ importing the store behind the API', 'smoke/main.ts', "import '#shared/adapters/dynamodb-store.ts';"],
    ['smoke/ importing the local runtime by a relative path', 'smoke/checks/access.ts', "import '../../local/gateway/gateway.ts';"],
    ['smoke/ importing functions/', 'smoke/main.ts', "import '#functions/whoami.ts';"],
    ['smoke/ importing test/', 'smoke/main.ts', "import '#test/e2e/support.ts';"],
  ])('%s fails lint', async (_floor, file, crossing) => {
    expect(await restrictedImports(file, `${crossing}\nexport {};\n`)).toHaveLength(1);
  });

  it.each([
    ['shared/domain/ importing itself', 'shared/domain/roles.ts', "import './ids.ts';"],
    ['console/ importing the domain', 'console/src/format.ts', "import '../../shared/domain/roles.ts';"],
    ['functions/ importing shared/', 'functions/whoami.ts', "import '#shared/http/routes.ts';"],
    ['smoke/ importing the domain', 'smoke/main.ts', "import '#shared/domain/key-format.ts';"],
  ])('%s passes', async (_floor, file, allowed) => {
    expect(await restrictedImports(file, `${allowed}\nexport {};\n`)).toEqual([]);
  });
});
