import type { Logger } from '@aws-lambda-powertools/logger';

/** The service the local runtime's logs name (its structured logger and its request lines). */
export const LOCAL_SERVICE = 'latchkey-local';

/** Powertools' level number for INFO: a logger set above it (WARN, ERROR, SILENT) writes no request lines. */
const INFO_LEVEL = 12;

/** Ids, status and timing only: paths hold no secret, and headers, which do, are never logged. */
export interface RequestLogEntry {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly sourceIp: string;
  readonly durationMs: number;
}

export interface RequestLogOptions {
  /** @default LOCAL_SERVICE */
  readonly serviceName?: string;
  /** @default process.stdout */
  readonly write?: (chunk: string) => void;
}

/**
 * The local server's request log: one JSON line per request with the structured logs' own
 * fields (`level`, `message`, `timestamp`, `service`), formatted here and written together once
 * per turn of the event loop. Through the logger, each line's formatting and its own write to
 * stdout cost a proxied request about a fifth of its time (docs/performance.md, section 7).
 */
export class RequestLog {
  readonly #service: string;
  readonly #write: (chunk: string) => void;
  #pending: string[] = [];
  #scheduled = false;

  constructor(options: RequestLogOptions = {}) {
    this.#service = options.serviceName ?? LOCAL_SERVICE;
    this.#write =
      options.write ??
      ((chunk) => {
        process.stdout.write(chunk);
      });
  }

  /** A request log at the logger's level: none when the logger writes nothing at INFO. */
  static of(logger: Logger, options: RequestLogOptions = {}): RequestLog | undefined {
    return logger.level <= INFO_LEVEL ? new RequestLog(options) : undefined;
  }

  record(entry: RequestLogEntry): void {
    const { method, path, status, sourceIp, durationMs } = entry;
    const line = { level: 'INFO', message: 'request', timestamp: new Date().toISOString(), service: this.#service, method, path, status, sourceIp, durationMs };
    this.#pending.push(`${JSON.stringify(line)}\n`);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.flush();
      });
    }
  }

  /** Writes the pending lines now (the server flushes when it closes). */
  flush(): void {
    this.#scheduled = false;
    if (this.#pending.length === 0) return;
    const chunk = this.#pending.join('');
    this.#pending = [];
    this.#write(chunk);
  }
}
