import dns from 'node:dns';
import net from 'node:net';

/**
 * Preloaded into a child process (`node --import tsx --import ./test/support/no-network.ts`):
 * every attempt to resolve a name or open a connection is written to stderr as
 * `NETWORK-ATTEMPT …` and refused, so a test can prove a tool works offline and phones no one.
 */

const NETWORK_ATTEMPT = 'NETWORK-ATTEMPT';

function report(what: string): void {
  process.stderr.write(`${NETWORK_ATTEMPT} ${what}\n`);
}

net.Socket.prototype.connect = function refuse(this: net.Socket, ...args: unknown[]): net.Socket {
  report(`connect ${JSON.stringify(args[0])}`);
  this.destroy(new Error('network access is refused here'));
  return this;
};

dns.lookup = ((hostname: string, ...rest: unknown[]) => {
  report(`lookup ${hostname}`);
  const callback = rest.at(-1);
  if (typeof callback === 'function') process.nextTick(() => { (callback as (error: Error) => void)(new Error('name lookups are refused here')); });
}) as typeof dns.lookup;

dns.promises.lookup = ((hostname: string) => {
  report(`lookup ${hostname}`);
  return Promise.reject(new Error('name lookups are refused here'));
}) as typeof dns.promises.lookup;
