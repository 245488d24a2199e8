import type { KeyObject } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** GitHub's secret scanning key list, served locally as GitHub serves its own, for signed test alerts. */
export interface KeyEndpoint {
  readonly url: string;
  /** How often the key list was fetched. */
  fetches: number;
  close(): Promise<void>;
}

export async function serveGitHubKeys(keys: Readonly<Record<string, KeyObject>>): Promise<KeyEndpoint> {
  const document = JSON.stringify({
    public_keys: Object.entries(keys).map(([id, key]) => ({ key_identifier: id, key: key.export({ type: 'spki', format: 'pem' }), is_current: true })),
  });
  const endpoint = { url: '', fetches: 0, close: (): Promise<void> => Promise.resolve() };
  const server: Server = createServer((_request, response) => {
    endpoint.fetches += 1;
    response.writeHead(200, { 'content-type': 'application/json' }).end(document);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/meta/public_keys/secret_scanning`;
  endpoint.close = () =>
    new Promise((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  return endpoint;
}
