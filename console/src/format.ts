/** Dates as a person reads them; the ISO form stays in the title for the exact instant. */
export function when(iso: string | null): string {
  if (iso === null) return 'Never';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Whether the page may write to the clipboard. Browsers give `navigator.clipboard` to secure
 * contexts only: on plain HTTP from a host other than localhost (`npm start -- --host`) it is
 * undefined, and the console must offer another way out of the one-time key dialog.
 */
export function clipboardAvailable(): boolean {
  // The DOM types promise a clipboard; the browser gives one only to a secure context.
  const { clipboard } = navigator as { clipboard?: Clipboard };
  return typeof clipboard?.writeText === 'function';
}

export const NO_CLIPBOARD =
  'This page has no clipboard access (plain HTTP on a host other than localhost): select the key and copy it by hand.';

/** Rejects with a sentence a person can act on, never with a TypeError, when there is no clipboard. */
export async function copyText(text: string): Promise<void> {
  if (!clipboardAvailable()) throw new Error(NO_CLIPBOARD);
  await navigator.clipboard.writeText(text);
}
