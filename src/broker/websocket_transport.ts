import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { createWebSocketStream, WebSocketServer } from 'ws';

/** The WebSocket path MQTT clients connect to (EMQX, Mosquitto and HiveMQ use the same). */
export const MQTT_WS_PATH = '/mqtt';

/** Subprotocols we speak: MQTT 3.1.1 (`mqtt`) and MQTT 3.1 (`mqttv3.1`) [MQTT-6.0.0-3]. */
const SUBPROTOCOLS = ['mqtt', 'mqttv3.1'] as const;

/**
 * What the authenticate hook reads from a connection (`client.conn`): the
 * fields a TLS socket has. A WebSocket stream carries them too, copied from
 * the upgrade request's socket, so every transport takes the same path.
 */
export interface ConnectionFacts {
  remoteAddress?: string;
  getPeerCertificate?(detailed: boolean): ReturnType<TLSSocket['getPeerCertificate']>;
  authorized?: boolean;
  authorizationError?: Error;
}

export interface UpgradeOptions {
  /** Largest WebSocket message, bytes: the largest MQTT packet. */
  maxPayload: number;
  /** Take the address from X-Forwarded-For (a proxy we run sets it). */
  trustProxy: boolean;
  /** Counts a connection from an address; false refuses it (per-address cap). */
  admit(address: string): boolean;
  release(address: string): void;
  /** Keeps the raw socket so closing the listeners ends it. */
  track(socket: Duplex): void;
  /** Hands the MQTT byte stream to the broker. */
  handle(stream: Duplex & ConnectionFacts): void;
}

/**
 * The `upgrade` handler of the WS and WSS listeners: refuses anything but
 * `GET /mqtt` with the `mqtt` subprotocol, applies the per-address cap,
 * then turns the WebSocket into a byte stream (`createWebSocketStream`)
 * that carries the connection facts of {@link ConnectionFacts}.
 * No per-message deflate: compression of attacker-chosen data next to
 * secrets invites CRIME-style attacks and costs CPU per message.
 *
 * @example server.on('upgrade', createUpgradeHandler(options));
 */
export function createUpgradeHandler(options: UpgradeOptions): (request: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxPayload,
    perMessageDeflate: false,
    clientTracking: false,
    handleProtocols: (offered) => SUBPROTOCOLS.find((p) => offered.has(p)) ?? false,
  });
  return (request, socket, head) => {
    socket.on('error', () => {});
    if (pathOf(request.url) !== MQTT_WS_PATH) return refuse(socket, 404, 'Not Found');
    if (!offersMqtt(request.headers['sec-websocket-protocol'])) return refuse(socket, 400, 'Bad Request');
    const address = clientAddress(request, options.trustProxy);
    if (!options.admit(address)) return refuse(socket, 503, 'Service Unavailable');
    socket.once('close', () => options.release(address));
    options.track(socket);
    wss.handleUpgrade(request, socket, head, (ws) => {
      const stream = createWebSocketStream(ws) as Duplex & ConnectionFacts;
      stream.remoteAddress = address;
      const tlsSocket = request.socket as Partial<TLSSocket>;
      // Only browsers send Origin. A certificate installed in a browser is ambient authority: any
      // site could open this WebSocket and ride on it (cross-site WebSocket hijacking). So from a
      // browser the certificate is ignored; pages authenticate with a token or PAT in CONNECT.
      if (typeof tlsSocket.getPeerCertificate === 'function' && request.headers.origin === undefined) {
        // The certificate of the TLS connection the upgrade came on (WSS): verified
        // against our CA by the TLS layer; authenticate() decides what it is worth.
        stream.getPeerCertificate = (detailed) => tlsSocket.getPeerCertificate!(detailed);
        stream.authorized = tlsSocket.authorized ?? false;
        if (tlsSocket.authorizationError) stream.authorizationError = tlsSocket.authorizationError;
      }
      options.handle(stream);
    });
  };
}

/**
 * The plain HTTP side of the WS and WSS ports: `GET /healthz` answers 200
 * (the port accepts connections), `/mqtt` without an upgrade is 426, the
 * rest 404. Nothing else is served here.
 */
export function webSocketHttpHandler(request: IncomingMessage, response: ServerResponse): void {
  const path = pathOf(request.url);
  if (path === '/healthz' && (request.method === 'GET' || request.method === 'HEAD')) {
    response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end('{"status":"ok"}');
    return;
  }
  if (path === MQTT_WS_PATH) {
    response.writeHead(426, { upgrade: 'websocket', connection: 'Upgrade', 'content-type': 'text/plain' }).end('MQTT over WebSocket: upgrade with subprotocol mqtt\n');
    return;
  }
  response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
}

/**
 * The client's address: the socket peer, or with `trustProxy` the last
 * X-Forwarded-For entry (the one our own proxy appended; earlier entries
 * are whatever the client claimed).
 *
 * @example clientAddress(request, false) // '127.0.0.1'
 */
export function clientAddress(request: IncomingMessage, trustProxy: boolean): string {
  const peer = request.socket.remoteAddress ?? 'unknown';
  if (!trustProxy) return peer;
  const header = request.headers['x-forwarded-for'];
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!value) return peer;
  const last = value.split(',').map((part) => part.trim()).filter(Boolean).pop();
  return last && last.length <= 64 ? last : peer;
}

function offersMqtt(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(',').some((p) => (SUBPROTOCOLS as readonly string[]).includes(p.trim()));
}

function pathOf(url: string | undefined): string {
  const q = (url ?? '').indexOf('?');
  return q === -1 ? (url ?? '') : url!.slice(0, q);
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}
