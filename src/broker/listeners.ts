import type { Aedes } from 'aedes';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { Logger } from '../log/logger.js';
import { PacketSizeGuard } from './packet_size_guard.js';
import { createUpgradeHandler, webSocketHttpHandler } from './websocket_transport.js';

export interface ListenerLimits {
  maxPacketSize: number;
  /** 0 = unlimited. */
  maxConnectionsPerAddress: number;
  /** WebSocket connections take their address from X-Forwarded-For. */
  trustProxy: boolean;
}

export interface TlsMaterial {
  key: string;
  cert: string;
  ca: string;
}

/** Options every TLS listener (MQTTS, WSS) shares. */
function tlsOptions(material: TlsMaterial): tls.TlsOptions {
  return {
    key: material.key,
    cert: material.cert,
    ca: [material.ca],
    // Ask for a certificate, verify it against our CA, but let password clients in:
    // authenticate() refuses a presented certificate that did not verify.
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
  };
}

/**
 * The MQTT (TCP), MQTTS (TLS, client certificate requested but not
 * required), WS and WSS (MQTT over WebSocket, path `/mqtt`) listeners.
 * Each connection is counted per address and its packets framed by a
 * {@link PacketSizeGuard} before Aedes sees them.
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
    const secure = tls.createServer(tlsOptions(material), (socket) => this.#accept(socket));
    secure.on('tlsClientError', (err) => this.log.debug({ err: err.message }, 'TLS handshake failed'));
    this.#servers.push(plain, secure);
    return { mqtt: await listenOn(plain, host, mqttPort), mqtts: await listenOn(secure, host, mqttsPort) };
  }

  /**
   * MQTT over WebSocket (`ws`) and secure WebSocket (`wss`, client
   * certificate requested as on MQTTS), both at path `/mqtt` with the
   * `mqtt` subprotocol. Each connection becomes a byte stream handed to
   * Aedes like a TCP socket, carrying the peer certificate and address the
   * authenticate hook reads: one authentication path for every transport.
   */
  async listenWebSockets(host: string, wsPort: number, wssPort: number, material: TlsMaterial): Promise<{ ws: number; wss: number }> {
    const upgrade = createUpgradeHandler({
      maxPayload: this.limits.maxPacketSize,
      trustProxy: this.limits.trustProxy,
      admit: (address) => this.#admit(address),
      release: (address) => this.#release(address),
      track: (socket) => {
        this.#sockets.add(socket as Socket);
        socket.once('close', () => this.#sockets.delete(socket as Socket));
      },
      handle: (stream) => this.#handleStream(stream),
    });
    const plain = http.createServer(webSocketHttpHandler);
    const secure = https.createServer(tlsOptions(material), webSocketHttpHandler);
    secure.on('tlsClientError', (err) => this.log.debug({ err: err.message }, 'TLS handshake failed'));
    for (const server of [plain, secure]) {
      server.on('upgrade', upgrade);
      // Slow or idle HTTP requests are not MQTT sessions; do not let them linger.
      server.headersTimeout = 10_000;
      server.requestTimeout = 10_000;
    }
    this.#servers.push(plain, secure);
    return { ws: await listenOn(plain, host, wsPort), wss: await listenOn(secure, host, wssPort) };
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await Promise.all(this.#servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }

  /** Counts a new connection from `address`; false when that address is at its limit. */
  #admit(address: string): boolean {
    const count = (this.#perAddress.get(address) ?? 0) + 1;
    if (this.limits.maxConnectionsPerAddress > 0 && count > this.limits.maxConnectionsPerAddress) {
      this.log.warn({ remote: address }, 'connection limit per address reached');
      this.onRefused(address, 'connection limit per address');
      return false;
    }
    this.#perAddress.set(address, count);
    return true;
  }

  #release(address: string): void {
    const left = (this.#perAddress.get(address) ?? 1) - 1;
    if (left <= 0) this.#perAddress.delete(address);
    else this.#perAddress.set(address, left);
  }

  /** A WebSocket connection's byte stream, handed to Aedes like a socket. */
  #handleStream(stream: Duplex): void {
    stream.on('error', ignore);
    const client = this.aedes.handle(stream as never);
    guardPacketSize(client, stream, this.limits.maxPacketSize);
  }

  #accept(socket: Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    if (!this.#admit(address)) {
      socket.destroy();
      return;
    }
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
    readonly socket: { destroy(): void },
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
function guardPacketSize(client: unknown, socket: { destroy(): void }, maxPacketSize: number): void {
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

function listenOn(server: Server | http.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
