import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/setup.ts'],
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_DEV: 'false',
    },
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most files wait on DynamoDB Local, child processes or a browser rather than compute: on a
    // two-core machine two workers finish the run in about two thirds of the time one takes.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
