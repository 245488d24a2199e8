import { Logger } from '@aws-lambda-powertools/logger';

/** A Powertools logger that writes nothing, for code under test that needs one but whose output no test reads. */
export function quietLogger(): Logger {
  return new Logger({ serviceName: 'latchkey-test', logLevel: 'SILENT' });
}
