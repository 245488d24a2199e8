/** Dates as a person reads them; the ISO form stays in the title for the exact instant. */
export function when(iso: string | null): string {
  if (iso === null) return 'Never';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function copyText(text: string): Promise<void> {
  await navigator.clipboard.writeText(text);
}
