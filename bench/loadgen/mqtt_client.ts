import net, { type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { DISCONNECT, puback, subscribePacket } from './encode.js';
import { FrameReader, PacketType } from './frame_reader.js';

/** Where to connect: always loopback; `tls` turns the socket into TLS with these options. */
export interface Target {
  host: '127.0.0.1';
  port: number;
  tls?: tls.ConnectionOptions;
}

export interface Connected {
  client: RawMqttClient;
  /** CONNACK return code ([MQTT-3.2.2.3]); -1 when the socket closed first. */
  returnCode: number;
  /** From opening the socket to the CONNACK, ms (TCP and TLS handshakes included). */
  latencyMs: number;
}

/**
 * A bare MQTT 3.1.1 client over one raw net/tls socket: sends pre-built
 * packets, counts PUBLISHes (acknowledging QoS 1 ones at once) and reports
 * PUBACKs. Nothing else, so that per message it costs a fraction of what the
 * broker spends and the broker bounds the measured rate.
 */
export class RawMqttClient {
  /** PUBLISH packets received. */
  received = 0;
  /** Called per PUBLISH received with its payload (a view, valid during the call); null keeps the hot path to a count. */
  onPublish: ((payload: Buffer) => void) | null = null;
  /** Called per PUBACK received with its packet id (publishers' window). */
  onPuback: ((id: number) => void) | null = null;
  /** Called once per `data` chunk, after its packets were handled (progress checks, refilling a window). */
  onChunk: (() => void) | null = null;
  /** performance.now() when the socket closed, or null while open. */
  closedAt: number | null = null;
  readonly closed: Promise<number>;
  readonly #socket: Socket;
  readonly #waiters: { type: number; resolve: (body: Buffer) => void }[] = [];
  #acks: Buffer[] = [];

  private constructor(socket: Socket) {
    this.#socket = socket;
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.closedAt = performance.now();
        for (const w of this.#waiters.splice(0)) w.resolve(Buffer.alloc(0));
        resolve(this.closedAt);
      }),
    );
    const reader = new FrameReader((type, flags, body) => this.#frame(type, flags, body));
    socket.on('data', (chunk: Buffer) => {
      reader.push(chunk);
      if (this.#acks.length > 0) {
        socket.write(this.#acks.length === 1 ? this.#acks[0]! : Buffer.concat(this.#acks));
        this.#acks = [];
      }
      this.onChunk?.();
    });
    // Errors (refusals, resets) surface as 'close'; the caller reads the return code.
    socket.on('error', () => {});
  }

  /**
   * Opens a socket, sends `connectPacket` and waits for the CONNACK.
   *
   * @example const { client, returnCode } = await RawMqttClient.connect(target, connectPacket({ clientId: 'a' }));
   */
  static connect(target: Target, connectPacket: Buffer): Promise<Connected> {
    const start = performance.now();
    const socket = target.tls
      ? tls.connect({ host: target.host, port: target.port, servername: 'localhost', ...target.tls })
      : net.connect({ host: target.host, port: target.port });
    socket.setNoDelay(true);
    const client = new RawMqttClient(socket);
    // Written at once: the socket queues it until the TCP (and TLS) handshake is done.
    socket.write(connectPacket);
    return client.#next(PacketType.CONNACK).then((body) => ({
      client,
      returnCode: body.length >= 2 ? body[1]! : -1,
      latencyMs: performance.now() - start,
    }));
  }

  /** [MQTT-3.8] Subscribes to one filter; resolves with the SUBACK return code (128 = refused). */
  async subscribe(filter: string, qos: 0 | 1, messageId = 1): Promise<number> {
    this.#socket.write(subscribePacket(messageId, filter, qos));
    const body = await this.#next(PacketType.SUBACK);
    return body.length >= 3 ? body[2]! : -1;
  }

  /** Writes raw bytes; resolves when the socket accepted them without backpressure. */
  write(bytes: Buffer): Promise<void> {
    if (this.#socket.write(bytes)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.#socket.off('drain', done);
        this.#socket.off('close', done);
        resolve();
      };
      this.#socket.once('drain', done);
      this.#socket.once('close', done);
    });
  }

  /**
   * Sends DISCONNECT and waits for the broker to close the socket
   * ([MQTT-3.14.4-1]); destroys it after `graceMs` so a run always ends.
   */
  async disconnect(graceMs = 5_000): Promise<void> {
    if (this.closedAt !== null) return;
    this.#socket.end(DISCONNECT);
    const timer = setTimeout(() => this.#socket.destroy(), graceMs);
    await this.closed;
    clearTimeout(timer);
  }

  /** Closes without DISCONNECT. */
  destroy(): void {
    this.#socket.destroy();
  }

  #next(type: number): Promise<Buffer> {
    if (this.closedAt !== null) return Promise.resolve(Buffer.alloc(0));
    return new Promise((resolve) => this.#waiters.push({ type, resolve }));
  }

  #frame(type: number, flags: number, body: Buffer): void {
    if (type === PacketType.PUBLISH) {
      this.received++;
      const qos = (flags >> 1) & 3;
      // [MQTT-3.3.2] packet id (QoS > 0) follows the topic name; the payload follows both.
      const idAt = 2 + body.readUInt16BE(0);
      if (qos === 1) this.#acks.push(puback(body.readUInt16BE(idAt)));
      this.onPublish?.(body.subarray(qos > 0 ? idAt + 2 : idAt));
      return;
    }
    if (type === PacketType.PUBACK) {
      this.onPuback?.(body.readUInt16BE(0));
      return;
    }
    const i = this.#waiters.findIndex((w) => w.type === type);
    if (i >= 0) this.#waiters.splice(i, 1)[0]!.resolve(Buffer.from(body));
  }
}
