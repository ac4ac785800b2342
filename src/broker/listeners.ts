import type { Aedes } from 'aedes';
import net, { type AddressInfo, type Server, type Socket } from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../log/logger.js';
import { PacketSizeGuard } from './packet_size_guard.js';

export interface ListenerLimits {
  maxPacketSize: number;
  /** 0 = unlimited. */
  maxConnectionsPerAddress: number;
}

export interface TlsMaterial {
  key: string;
  cert: string;
  ca: string;
}

/**
 * The MQTT (TCP) and MQTTS (TLS, client certificate requested but not
 * required) listeners. Each connection is counted per address and its
 * packets framed by a {@link PacketSizeGuard} before Aedes sees them.
 */
export class Listeners {
  readonly #servers: Server[] = [];
  readonly #perAddress = new Map<string, number>();
  readonly #sockets = new Set<Socket>();

  constructor(
    private readonly aedes: Aedes,
    private readonly limits: ListenerLimits,
    private readonly log: Logger,
  ) {}

  async listen(host: string, mqttPort: number, mqttsPort: number, material: TlsMaterial): Promise<{ mqtt: number; mqtts: number }> {
    const plain = net.createServer((socket) => this.#accept(socket));
    const secure = tls.createServer(
      {
        key: material.key,
        cert: material.cert,
        ca: [material.ca],
        // Ask for a certificate, verify it against our CA, but let password clients in:
        // authenticate() refuses a presented certificate that did not verify.
        requestCert: true,
        rejectUnauthorized: false,
        minVersion: 'TLSv1.2',
      },
      (socket) => this.#accept(socket),
    );
    secure.on('tlsClientError', (err) => this.log.debug({ err: err.message }, 'TLS handshake failed'));
    this.#servers.push(plain, secure);
    return { mqtt: await listenOn(plain, host, mqttPort), mqtts: await listenOn(secure, host, mqttsPort) };
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await Promise.all(this.#servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }

  #accept(socket: Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    const count = (this.#perAddress.get(address) ?? 0) + 1;
    if (this.limits.maxConnectionsPerAddress > 0 && count > this.limits.maxConnectionsPerAddress) {
      this.log.warn({ remote: address }, 'connection limit per address reached');
      socket.destroy();
      return;
    }
    this.#perAddress.set(address, count);
    this.#sockets.add(socket);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      const left = (this.#perAddress.get(address) ?? 1) - 1;
      if (left <= 0) this.#perAddress.delete(address);
      else this.#perAddress.set(address, left);
    });
    socket.on('error', () => {});
    const client = this.aedes.handle(socket);
    guardPacketSize(client, socket, this.limits.maxPacketSize);
  }
}

/**
 * Aedes 1.2 has no packet size limit: it buffers until a packet is whole.
 * Its client feeds socket data to `_parser.parse`, so the guard wraps that
 * one call and cuts the connection at the first oversized packet header.
 */
function guardPacketSize(client: unknown, socket: Socket, maxPacketSize: number): void {
  const parser = (client as { _parser?: { parse(buf: Buffer): unknown } })._parser;
  if (!parser) throw new Error('aedes internals changed: client._parser missing');
  const guard = new PacketSizeGuard(maxPacketSize);
  const parse = parser.parse.bind(parser);
  parser.parse = (buf: Buffer) => {
    if (!guard.feed(buf)) {
      socket.destroy();
      return undefined;
    }
    return parse(buf);
  };
}

function listenOn(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
