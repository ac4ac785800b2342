import net, { type AddressInfo } from 'node:net';

/**
 * A port that is free on `host` right now. Used to fix the HTTP port before
 * start-up when `--http-port 0` is asked for and the issuer is derived from
 * it, so tokens and metadata name the real port; and by the tests and the
 * bench to give a private redis-server a port.
 */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
