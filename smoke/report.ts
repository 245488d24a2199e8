import type { Answer } from './http-client.ts';

/**
 * What the smoke test prints: one PASS/FAIL line per check as it completes, then
 * `N passed, M failed`, then the revocation figures; or all of it as one JSON document.
 * Every text that leaves here goes through `redactSecrets` first: a check may quote an answer, and an
 * answer (or a broken server's echo) may carry a key.
 */

export interface CheckResult {
  readonly name: string;
  readonly passed: boolean;
  /** What was seen, for a failure; for a pass, the figure it measured, if any. */
  readonly detail?: string;
}

export interface RevocationFigures {
  /** Milliseconds from each delete's 204 to the first 401, one per trial that saw a 401. */
  readonly trialsMs: readonly number[];
  readonly medianMs: number | undefined;
  readonly maxMs: number | undefined;
  readonly boundMs: number;
  /** Trials whose key was still accepted when polling gave up. */
  readonly unrevoked: number;
}

export interface SmokeSummary {
  readonly url: string;
  readonly passed: number;
  readonly failed: number;
  readonly checks: readonly CheckResult[];
  readonly revocation: RevocationFigures | undefined;
  readonly interrupted: boolean;
}

/** Latchkey's key formats (prefix `lka_` or `lks_`, then base62), and anything that starts like one. */
const KEY_SHAPED = /\bl[a-z]{2}_[0-9A-Za-z]{8,}/g;

/**
 * The values this run must never print, whatever their shape (the owner's keys, every secret
 * made). One run is one process, so the set is the process's.
 */
const secrets = new Set<string>();

/**
 * Replaces every known secret and every key-shaped string. Run before any cut (describeAnswer
 * shortens bodies), so that no part of a key is left at a cut's edge.
 */
export function redactSecrets(text: string): string {
  let redacted = text;
  for (const secret of secrets) redacted = redacted.split(secret).join('[secret]');
  return redacted.replace(KEY_SHAPED, (match) => `${match.slice(0, 4)}[secret]`);
}

export class SmokeReport {
  readonly #checks: CheckResult[] = [];
  #revocation: RevocationFigures | undefined;

  /** @param onCheck called with each check's line as it completes (text mode prints it at once). */
  constructor(
    private readonly url: string,
    private readonly onCheck: (line: string) => void = () => undefined,
  ) {}

  /** A value that must never be printed, whatever its shape (the owner's keys, every secret made). */
  keepSecret(value: string | undefined): void {
    if (value !== undefined && value !== '') secrets.add(value);
  }

  pass(name: string, detail?: string): void {
    this.#add({ name, passed: true, ...(detail === undefined ? {} : { detail }) });
  }

  fail(name: string, detail: string): void {
    this.#add({ name, passed: false, detail });
  }

  /** Passes when `answer` has the expected status; otherwise fails naming what came instead. */
  expectStatus(name: string, answer: Answer, expected: number): boolean {
    if (answer.status === expected) {
      this.pass(name);
      return true;
    }
    this.fail(name, `expected ${expected}, saw ${describeAnswer(answer)}`);
    return false;
  }

  recordRevocation(figures: RevocationFigures): void {
    this.#revocation = figures;
  }

  get failed(): number {
    return this.#checks.filter((check) => !check.passed).length;
  }

  summary(interrupted: boolean): SmokeSummary {
    return {
      url: this.url,
      passed: this.#checks.length - this.failed,
      failed: this.failed,
      checks: [...this.#checks],
      revocation: this.#revocation,
      interrupted,
    };
  }

  #add(check: CheckResult): void {
    const safe: CheckResult = { ...check, name: redactSecrets(check.name), ...(check.detail === undefined ? {} : { detail: redactSecrets(check.detail) }) };
    this.#checks.push(safe);
    this.onCheck(checkLine(safe));
  }
}

export function checkLine(check: CheckResult): string {
  return `${check.passed ? 'PASS' : 'FAIL'}  ${check.name}${check.detail === undefined ? '' : `: ${check.detail}`}`;
}

/** The closing lines of the text report: the count alone on its line, then the figures. */
export function closingLines(summary: SmokeSummary): string[] {
  return [`${summary.passed} passed, ${summary.failed} failed`, revocationLine(summary.revocation)];
}

function revocationLine(figures: RevocationFigures | undefined): string {
  if (figures === undefined) return 'revocation: not measured';
  const unrevoked = figures.unrevoked === 0 ? '' : `, ${figures.unrevoked} never refused`;
  if (figures.medianMs === undefined || figures.maxMs === undefined) {
    return `revocation: no trial saw a 401 (bound ${figures.boundMs} ms${unrevoked})`;
  }
  return `revocation: median ${figures.medianMs} ms, max ${figures.maxMs} ms over ${figures.trialsMs.length} trials (bound ${figures.boundMs} ms${unrevoked})`;
}

/** `401 {"message":"Unauthorized"}`, or `no answer (…)`: the status and the start of the body. */
export function describeAnswer(answer: Answer): string {
  if (answer.status === 0) return `no answer (${answer.error ?? 'unknown error'})`;
  const body = redactSecrets(answer.text).replace(/\s+/g, ' ').trim();
  if (body === '') return String(answer.status);
  return `${answer.status} ${body.length > 120 ? `${body.slice(0, 120)}…` : body}`;
}
