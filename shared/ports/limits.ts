/** The deployment's limits on what one user and one key may hold. */
export interface Limits {
  readonly keysPerUser: number;
  readonly rulesPerKey: number;
}
