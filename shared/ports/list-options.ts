/** One page of a list: at most `limit` items, after the place `cursor` marks (absent: the start). */
export interface ListOptions {
  readonly limit: number;
  readonly cursor?: string | undefined;
}
