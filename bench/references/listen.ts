import type { AddressInfo, Server } from 'node:net';

/**
 * Listens on 127.0.0.1 with an ephemeral port and returns the port: the
 * bench never binds anything but loopback.
 *
 * @example const port = await listen(createServer(handler));
 */
export function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // A large backlog: the connect storm opens dozens of sockets at once.
    server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => resolve((server.address() as AddressInfo).port));
  });
}
