import { type Server, createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';

/** One POST as the receiver got it: the raw body and the three Standard Webhooks headers. */
export interface Delivery {
  readonly body: string;
  readonly headers: { readonly 'webhook-id': string; readonly 'webhook-timestamp': string; readonly 'webhook-signature': string };
  /** What the receiver answered. */
  readonly status: number;
}

/** A delivery verified as a receiver verifies it: its parsed `{type, data}`. */
export interface VerifiedSignal {
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>> & { readonly id: string; readonly accountId: string };
}

export interface WebhookReceiver {
  readonly url: string;
  /** Every POST received, in arrival order, whatever was answered. */
  readonly deliveries: Delivery[];
  /** What the receiver answers from now on (a 503 stands for a receiver that is down). */
  answer(status: number): void;
  /**
   * The taken deliveries (2xx), each verified with `standardwebhooks` as a receiver would;
   * throws on any that fails verification.
   */
  verified(): VerifiedSignal[];
  close(): Promise<void>;
}

/** A real HTTP receiver on a free local port, verifying with the given secret. */
export async function startWebhookReceiver(secret: string): Promise<WebhookReceiver> {
  const webhook = new Webhook(secret);
  const deliveries: Delivery[] = [];
  let status = 204;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const header = (name: string): string => {
        const value = request.headers[name];
        return typeof value === 'string' ? value : '';
      };
      deliveries.push({
        body: Buffer.concat(chunks).toString('utf8'),
        headers: { 'webhook-id': header('webhook-id'), 'webhook-timestamp': header('webhook-timestamp'), 'webhook-signature': header('webhook-signature') },
        status,
      });
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the receiver has no port');
  return {
    url: `http://127.0.0.1:${address.port}/latchkey-events`,
    deliveries,
    answer: (next) => {
      status = next;
    },
    verified: () =>
      deliveries.filter((delivery) => delivery.status < 300).map((delivery) => webhook.verify(delivery.body, delivery.headers) as VerifiedSignal),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** A fresh `whsec_` secret of 32 random bytes. */
export function newEventsSecret(): string {
  return `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64')}`;
}
