/**
 * How a person started the program, so that its help and hints name a command they can type:
 * `npx latchkey start` in a team's app (bin/cli.ts sets the variable), `npm start --` in this
 * repository, where package.json's scripts run the programs directly.
 */
export const INVOKED_AS_ENV = 'LATCHKEY_INVOKED_AS';

export type Program = 'start' | 'admin';

const IN_THIS_REPOSITORY: Readonly<Record<Program, string>> = { start: 'npm start --', admin: 'npm run admin --' };

/** The command line that runs `program` with options after it, as its help should spell it. */
export function commandLine(program: Program): string {
  return process.env[INVOKED_AS_ENV] === 'latchkey' ? `npx latchkey ${program}` : IN_THIS_REPOSITORY[program];
}

/** The program as a person names it in a sentence (`npm start`, not `npm start --`). */
export function programName(program: Program): string {
  return commandLine(program).replace(/ --$/, '');
}
