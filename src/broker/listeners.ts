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
    /** Told about each connection cut before MQTT saw it (the audit aggregates them per address). */
    private readonly onRefused: (remote: string, reason: string) => void = () => {},
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
      this.onRefused(address, 'connection limit per address');
      socket.destroy();
      return;
    }
    this.#perAddress.set(address, count);
    this.#sockets.add(socket);
    // Shared handlers, not closures per socket: 10,000 idle sessions kept 10,000 of each.
    // 'on', not 'once': 'close' fires once anyway, and once() wraps the handler per socket.
    socket.on('close', this.#onClose);
    socket.on('error', ignore);
    const client = this.aedes.handle(socket);
    guardPacketSize(client, socket, this.limits.maxPacketSize);
  }

  readonly #onClose = closeHandler(this.#sockets, this.#perAddress);
}

/** One 'close' handler for every socket: `this` is the socket, whose address node cached at accept. */
function closeHandler(sockets: Set<Socket>, perAddress: Map<string, number>): (this: Socket) => void {
  return function onClose(this: Socket): void {
    sockets.delete(this);
    const address = this.remoteAddress ?? 'unknown';
    const left = (perAddress.get(address) ?? 1) - 1;
    if (left <= 0) perAddress.delete(address);
    else perAddress.set(address, left);
  };
}

function ignore(): void {}

/** The guard hung on Aedes's parser: the framing, the socket it cuts, and the parse it wraps. */
class ParserGuard extends PacketSizeGuard {
  constructor(
    maxPacketBytes: number,
    readonly socket: Socket,
    readonly parse: (buf: Buffer) => unknown,
  ) {
    super(maxPacketBytes);
  }
}

interface GuardedParser {
  parse(buf: Buffer): unknown;
  [GUARD]?: ParserGuard;
}

const GUARD = Symbol('packet size guard');

/**
 * Aedes 1.2 has no packet size limit: it buffers until a packet is whole.
 * Its client feeds socket data to `_parser.parse`, so the guard wraps that
 * one call and cuts the connection at the first oversized packet header.
 * One shared wrapper reads its guard from the parser, so a connection costs
 * one guard object and no closures.
 */
function guardPacketSize(client: unknown, socket: Socket, maxPacketSize: number): void {
  const parser = (client as { _parser?: GuardedParser })._parser;
  if (!parser) throw new Error('aedes internals changed: client._parser missing');
  parser[GUARD] = new ParserGuard(maxPacketSize, socket, parser.parse);
  parser.parse = guardedParse;
}

function guardedParse(this: GuardedParser, buf: Buffer): unknown {
  const guard = this[GUARD]!;
  if (!guard.feed(buf)) {
    guard.socket.destroy();
    return undefined;
  }
  return guard.parse.call(this, buf);
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
