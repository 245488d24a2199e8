// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The floors between rooms (DESIGN 12): what each room may import. A crossing import fails
 * `npm run lint` (test/lint-floors.test.ts shows each floor refusing one).
 */
const ROOMS_OUTSIDE_SHARED = 'functions|infra|local|admin|smoke|bench|test';
/** An import of one of `rooms`, by alias (`#infra/…`) or by a relative path (`../../infra/…`). */
const into = (rooms) => `^(#(${rooms})/|(\\.\\./)+(${rooms})/)`;
const floor = (files, regex, message) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { patterns: [{ regex, message }] }] },
});
const FLOORS = [
  floor(['shared/**/*.ts'], into(ROOMS_OUTSIDE_SHARED), 'shared/ is the core: it never imports functions/, infra/, local/, admin/, smoke/, bench/ or test/.'),
  // Last for its files, so it replaces the rule above: relative imports stay inside the folder.
  floor(['shared/domain/**/*.ts'], '^(#|\\.\\./)', 'shared/domain/ is the pure model: it imports nothing outside itself.'),
  floor(['functions/**/*.ts'], into('infra|local|admin|bench|test'), 'functions/ never imports infra/, local/, admin/, bench/ or test/.'),
  // What a team installs: the local runtime and the admin CLI are programs beside it, not parts of it.
  floor(['infra/**/*.ts'], into('local|admin|bench|test'), 'infra/ never imports local/, admin/, bench/ or test/.'),
  floor(['local/**/*.ts', 'admin/**/*.ts', 'bin/**/*.ts'], into('bench|test'), 'The programs never import bench/ or test/.'),
  // The smoke test checks a deployed stack as its clients see it: over HTTP, never through the code behind it.
  floor(
    ['smoke/**/*.ts'],
    into('functions|infra|local|admin|bench|test|shared/adapters'),
    'smoke/ talks to a stack over HTTP only: it never imports functions/, infra/, local/, admin/, shared/adapters/, bench/ or test/.',
  ),
  floor(['console/**/*.ts', 'console/**/*.tsx'], '^(#|(\\.\\./)+(?!\\.\\./|shared/domain/))', 'console/ takes only shared/domain/ from the rest of the project.'),
];

export default tseslint.config(
  { ignores: ['node_modules/', 'console/out/', 'cdk.out/', 'dist/', '.latchkey/', 'coverage/', 'bench/results.json'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  ...FLOORS,
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
