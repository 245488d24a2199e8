import { Logger } from '@aws-lambda-powertools/logger';

/**
 * Structured JSON logs; the level comes from POWERTOOLS_LOG_LEVEL (default INFO). Callers log
 * decisions and ids only: never a key, a digest, a ciphertext or a pepper (tests capture the
 * output and look for them).
 */
export function createLogger(serviceName = 'latchkey'): Logger {
  return new Logger({ serviceName });
}
