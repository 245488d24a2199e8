/**
 * The smoke test's only way into a stack: HTTP, with Node's own fetch, as any client of the
 * deployed API calls it. Nothing here logs: a request carries keys, and what is printed is
 * decided by the report (report.ts), which redacts anything key-shaped.
 */

/** The two keys of a request: the account key (`x-api-key`) and a user key (`x-api-secret-key`). */
export interface Keys {
  readonly accountKey?: string | undefined;
  readonly userKey?: string | undefined;
}

/** What the stack answered; status 0 when it did not answer at all (`error` says why). */
export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly text: string;
  readonly error?: string;
}

export interface RequestOptions {
  readonly method?: string;
  readonly keys?: Keys;
  readonly body?: unknown;
}

/** One request's time limit: longer than API Gateway's own 29 s integration timeout would be pointless. */
const REQUEST_TIMEOUT_MS = 30_000;

export class SmokeHttpClient {
  readonly #base: URL;

  /** @param url the stack's base URL, the stage included on AWS (`https://…/prod/`). */
  constructor(url: string) {
    const base = new URL(url);
    // Routes are joined below the base's path (the stage), never at the host's root.
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    this.#base = base;
  }

  get baseUrl(): string {
    return this.#base.toString();
  }

  /** The host of the base URL, as URL parses it (`127.0.0.1`, `[::1]`, `abc.execute-api…`). */
  get hostname(): string {
    return this.#base.hostname;
  }

  /** `path` is the API path (`/v1/whoami`), resolved below the base URL's path. */
  async request(path: string, options: RequestOptions = {}): Promise<Answer> {
    const url = new URL(path.replace(/^\/+/, ''), this.#base);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.keys?.accountKey !== undefined) headers['x-api-key'] = options.keys.accountKey;
    if (options.keys?.userKey !== undefined) headers['x-api-secret-key'] = options.keys.userKey;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    try {
      const response = await fetch(url, {
        method: options.method ?? 'GET',
        headers,
        ...(body === undefined ? {} : { body }),
        redirect: 'manual',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await response.text();
      return { status: response.status, body: parseObject(text), text };
    } catch (error) {
      return { status: 0, body: {}, text: '', error: describeFailure(error) };
    }
  }
}

function parseObject(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // fetch reports the socket's reason (ECONNREFUSED, a DNS failure) as its cause.
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}

/** A string field of a JSON answer, if it is one. */
export function stringField(answer: Answer, name: string): string | undefined {
  const value = answer.body[name];
  return typeof value === 'string' ? value : undefined;
}
