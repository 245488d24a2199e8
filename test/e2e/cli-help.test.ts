import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** Help names a command the person can type: `npx latchkey …` in a team's app, `npm …` here. */
describe('the programs name themselves as they were started', () => {
  it.each([
    ['start', 'npx latchkey start', 'npm start'],
    ['admin', 'npx latchkey admin', 'npm run admin'],
  ])('`latchkey %s --help` speaks of %s, never of %s', async (program, spoken, unspoken) => {
    const { stdout, stderr } = await run(process.execPath, ['bin/latchkey.js', program, '--help'], { timeout: 60_000 });
    const help = stdout + stderr;
    expect(help).toContain(`Usage: ${spoken}`);
    expect(help).not.toContain(unspoken);
  });

  it('in this repository, `npm start -- --help` speaks of npm start', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'local/process/main.ts', '--help'], { timeout: 60_000 });
    expect(stdout).toContain('Usage: npm start -- [options]');
    expect(stdout).toContain('npm run admin -- create-account --help');
    expect(stdout).toMatch(/--flavor <rest\|http>\s+the front door to emulate/);
  });
});
