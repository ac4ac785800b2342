import net, { type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface HttpLoadOptions {
  host: '127.0.0.1';
  port: number;
  /**
   * The requests of each keep-alive connection (so their number is the
   * concurrency); a connection sends its own in turn, cycling.
   */
  connections: Buffer[][];
  /** Requests per connection; default: each of its own once. */
  perConnection?: number;
  timeLimitMs: number;
  /** Called with every response body (e.g. to keep the tokens fetched); keep it cheap. */
  onBody?: (status: number, body: Buffer, connection: number, request: number) => void;
}

export interface HttpLoadResult {
  completed: number;
  /** Count per HTTP status. */
  statuses: Record<string, number>;
  durationMs: number;
  /** Request written to response complete, ms. */
  latencies: number[];
}

/**
 * Builds a `POST` with a form body, as an OAuth client sends to the token endpoint.
 *
 * @example formPost(port, '/oauth/token', 'grant_type=client_credentials', { authorization: 'Basic ...' })
 */
export function formPost(port: number, path: string, body: string, headers: Record<string, string> = {}): Buffer {
  const lines = [
    `POST ${path} HTTP/1.1`,
    `host: 127.0.0.1:${port}`,
    'content-type: application/x-www-form-urlencoded',
    `content-length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

/**
 * A closed-loop HTTP/1.1 load over raw keep-alive sockets: one request in
 * flight per connection. Responses must
 * carry Content-Length (fastify's JSON replies do). Cheaper per request than
 * node:http's client, so the server, not the generator, bounds the rate.
 *
 * @example await httpLoad({ host: '127.0.0.1', port, connections: Array(50).fill([req]), perConnection: 100, timeLimitMs: 30_000 });
 */
export async function httpLoad(opts: HttpLoadOptions): Promise<HttpLoadResult> {
  const result: HttpLoadResult = { completed: 0, statuses: {}, durationMs: 0, latencies: [] };
  const start = performance.now();
  const deadline = start + opts.timeLimitMs;
  await Promise.all(
    opts.connections.map(async (requests, index) => {
      const conn = await KeepAliveConnection.open(opts.port);
      const count = opts.perConnection ?? requests.length;
      try {
        for (let i = 0; i < count && performance.now() < deadline; i++) {
          const sentAt = performance.now();
          const response = await conn.exchange(requests[i % requests.length]!);
          result.latencies.push(performance.now() - sentAt);
          result.completed++;
          result.statuses[response.status] = (result.statuses[response.status] ?? 0) + 1;
          opts.onBody?.(response.status, response.body, index, i % requests.length);
        }
      } finally {
        conn.close();
      }
    }),
  );
  result.durationMs = performance.now() - start;
  return result;
}

/** One keep-alive connection that sends a request and reads exactly one response. */
class KeepAliveConnection {
  #buffer: Buffer = Buffer.alloc(0);
  #waiting: { resolve: (r: { status: number; body: Buffer }) => void; reject: (e: Error) => void } | null = null;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
      this.#tryParse();
    });
    socket.on('error', () => {});
    socket.on('close', () => this.#waiting?.reject(new Error('connection closed before the response')));
  }

  static open(port: number): Promise<KeepAliveConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(new KeepAliveConnection(socket)));
      socket.once('error', reject);
    });
  }

  exchange(request: Buffer): Promise<{ status: number; body: Buffer }> {
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      this.socket.write(request);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  #tryParse(): void {
    const end = this.#buffer.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.#buffer.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!length) {
      this.#waiting?.reject(new Error(`response without content-length: ${head.split('\r\n')[0]}`));
      return;
    }
    const total = end + 4 + Number(length[1]);
    if (this.#buffer.length < total) return;
    const body = this.#buffer.subarray(end + 4, total);
    this.#buffer = this.#buffer.subarray(total);
    const waiting = this.#waiting;
    this.#waiting = null;
    waiting?.resolve({ status, body });
  }
}
