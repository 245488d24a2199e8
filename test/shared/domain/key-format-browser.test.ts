import path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '#infra/constructs/latchkey-function.ts';

/**
 * The console tells a swapped or mistyped key apart before any request, with the domain's own
 * parser: that works only while the key format and everything it imports need no Node module.
 */
describe('the key format in a browser', () => {
  it('bundles for the browser with no Node module (no node:crypto, no node:zlib)', async () => {
    // Act
    const result = await build({
      stdin: {
        contents: "export { parseAccountKey, parseUserKey, formatAccountKey, formatUserKey } from './shared/domain/key-format.ts';",
        resolveDir: PROJECT_ROOT,
        loader: 'ts',
      },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
      metafile: true,
    });

    // Assess
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.every((input) => input.startsWith(path.join('shared', 'domain')) || input === '<stdin>')).toBe(true);
  });
});
