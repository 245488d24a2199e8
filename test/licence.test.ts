import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** One licence, said the same way everywhere a user or a tool looks for it. */
describe('the licence', () => {
  it('is Apache-2.0 in LICENSE, package.json and the OpenAPI document', () => {
    const licence = readFileSync('LICENSE', 'utf8');
    expect(licence).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    expect(licence).toContain('TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION');
    const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { license: string };
    expect(manifest.license).toBe('Apache-2.0');
    const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { license?: string }> };
    expect(lock.packages['']?.license).toBe('Apache-2.0');
    const openapi = JSON.parse(readFileSync('openapi.json', 'utf8')) as { info: { license: { identifier: string } } };
    expect(openapi.info.license.identifier).toBe('Apache-2.0');
  });
});
