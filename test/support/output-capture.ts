import { vi } from 'vitest';

/**
 * Everything the process writes to stdout and stderr, appended to `into` as text instead of
 * reaching the terminal (structured loggers write there). `vi.restoreAllMocks()` lets it through
 * again.
 */
export function captureProcessOutput(into: string[]): void {
  const capture = (chunk: string | Uint8Array): boolean => {
    into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
}
