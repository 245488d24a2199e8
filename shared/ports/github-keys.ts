/** The public keys GitHub signs its secret scanning alerts with, by identifier (PEM); undefined for one it does not publish. */
export interface GitHubKeySource {
  publicKey(identifier: string): Promise<string | undefined>;
}
