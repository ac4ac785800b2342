import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * What subscription patterns cost Redis itself, without latchkey: a
 * connection holding N patterns (the shape mqemitter-redis gives a
 * device's wildcard filter `idle/<id>/#`: `idle/<id>*`), and PUBLISHes to a
 * topic none of them matches, timed by Redis (`INFO commandstats`). Redis
 * checks every PUBLISH against every pattern of every connection, so this
 * is the routing cost of N wildcard subscriptions anywhere in a cluster.
 */

/** One command in RESP: `*2\r\n$4\r\nPING\r\n…`. */
export function respCommand(args: string[]): Buffer {
  const parts = [`*${args.length}\r\n`];
  for (const arg of args) parts.push(`$${Buffer.byteLength(arg)}\r\n${arg}\r\n`);
  return Buffer.from(parts.join(''));
}

/** A raw connection to Redis that counts the replies it has received (lines of the simple kind: `:1`, `+OK`). */
class RespConnection {
  replies = 0;
  readonly #socket: Socket;
  #tail = '';

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      // Integer and status replies are single lines; subscription confirmations are counted per pattern by the caller.
      const text = this.#tail + chunk.toString('latin1');
      const lines = text.split('\r\n');
      this.#tail = lines.pop()!;
      for (const line of lines) if (line.startsWith(':') || line.startsWith('+')) this.replies++;
    });
    socket.on('error', () => {});
  }

  static async open(port: number): Promise<RespConnection> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new RespConnection(socket);
  }

  send(args: string[]): void {
    this.#socket.write(respCommand(args));
  }

  async until(replies: number, timeoutMs = 120_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.replies < replies) {
      if (performance.now() > deadline) throw new Error(`Redis answered ${this.replies} of ${replies}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  close(): void {
    this.#socket.destroy();
  }
}

/**
 * Holds `patterns` patterns on one connection (sent in chunks), then
 * publishes for about `publishMs` in pipelined batches from another
 * (`publish` resolves with the number sent; read Redis' commandstats
 * around it for the time per PUBLISH). Resolves with how long the
 * patterns took to subscribe.
 *
 * @example const n = await publishUnderPatterns(redis.port, 100_000, 1_000, async () => { … });
 */
export async function publishUnderPatterns(
  port: number,
  patterns: number,
  publishMs: number,
  whileHeld: (publish: () => Promise<number>) => Promise<void>,
): Promise<{ subscribeMs: number }> {
  const subscriber = await RespConnection.open(port);
  const publisher = await RespConnection.open(port);
  try {
    const CHUNK = 5_000;
    const subscribing = performance.now();
    for (let from = 0; from < patterns; from += CHUNK) {
      const names = Array.from({ length: Math.min(CHUNK, patterns - from) }, (_, i) => `idle/dev-${from + i}*`);
      subscriber.send(['PSUBSCRIBE', ...names]);
    }
    // Every pattern is confirmed with its running count as an integer line.
    await subscriber.until(patterns);
    const subscribeMs = performance.now() - subscribing;
    await whileHeld(async () => {
      let sent = 0;
      const start = performance.now();
      do {
        const batch = 50;
        for (let i = 0; i < batch; i++) publisher.send(['PUBLISH', 'bench/load/1', 'x'.repeat(64)]);
        sent += batch;
        await publisher.until(sent);
      } while (performance.now() - start < publishMs);
      return sent;
    });
    return { subscribeMs };
  } finally {
    subscriber.close();
    publisher.close();
  }
}
