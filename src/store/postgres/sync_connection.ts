/**
 * A synchronous PostgreSQL connection: the shape better-sqlite3 has, over
 * the network.
 *
 * Why synchronous: the whole code base calls the store synchronously
 * (registries, broker caches, CLI), because better-sqlite3 is synchronous.
 * That already blocks the event loop for every statement, and for an fsync
 * on every credential write, so a blocking round trip to PostgreSQL is the
 * same contract with a different latency. Writes are admin operations, and
 * the per-CONNECT reads are served from memory (postgres_db.ts's cache), so
 * the hot paths make no round trip at all.
 *
 * How: one worker thread (worker.ts) owns a `pg` Client. The main thread
 * posts a request and blocks in `Atomics.wait` on a shared counter the
 * worker bumps after each answer, then takes the answer off the port with
 * `receiveMessageOnPort` (no event-loop turn needed). Hand-rolled rather
 * than synckit: it is these forty lines, the worker is our own compiled
 * file, and we need request ids to drop a late answer after a timeout.
 *
 * A request not answered within `timeoutMs` (PostgreSQL down, network
 * gone) throws a {@link StoreUnavailable}; the worker is told to drop its
 * connection, so a transaction cut short dies with it on the server, and
 * the next request connects anew.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { Answer, QueryAnswer, Request, RequestBody, WorkerStart } from './protocol.js';

/** How long a statement may take before the store is declared unavailable. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 5_000;
/** The first request also starts the thread and connects (TLS included): it may take longer, once. */
export const FIRST_CONNECT_TIMEOUT_MS = 15_000;

/**
 * The store did not answer in time or the connection is gone. `code` is
 * `store_unavailable`, for callers (and /healthz) to act on.
 */
export class StoreUnavailable extends Error {
  readonly code = 'store_unavailable';
  constructor(message: string) {
    super(message);
    this.name = 'StoreUnavailable';
  }
}

/** An error PostgreSQL reported; `code` is its SQLSTATE (23505: unique violation). */
export class PostgresError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly constraint?: string,
  ) {
    super(message);
    this.name = 'PostgresError';
  }
}

export class SyncConnection {
  readonly #worker: Worker;
  readonly #port: MessagePort;
  /** [0]: answers posted so far; [1]: 1 while the worker is connected (worker.ts). */
  readonly #signal = new Int32Array(new SharedArrayBuffer(8));
  #everConnected = false;
  readonly #timeoutMs: number;
  #nextId = 1;
  #closed = false;

  constructor(url: string, timeoutMs = DEFAULT_STATEMENT_TIMEOUT_MS) {
    this.#timeoutMs = timeoutMs;
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    const start: WorkerStart = { url, signal: this.#signal, port: port2, connectTimeoutMs: Math.max(100, Math.min(timeoutMs, DEFAULT_STATEMENT_TIMEOUT_MS) - 100) };
    this.#worker = new Worker(workerFile(), { workerData: start, transferList: [port2] });
    // The thread must not keep a CLI process alive; close() ends it.
    this.#worker.unref();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** `timeoutMs` shortens the wait for this one request (a health check must not hold the event loop for long). */
  query(sql: string, params: unknown[], timeoutMs = this.#timeoutMs): QueryAnswer {
    return this.#request({ kind: 'query', sql, params }, timeoutMs) as QueryAnswer;
  }

  /**
   * Whether PostgreSQL answers `SELECT 1` within `timeoutMs`, even while the
   * worker is reconnecting (other requests then fail at once).
   */
  probe(timeoutMs: number): void {
    this.#request({ kind: 'query', sql: 'SELECT 1', params: [] }, timeoutMs, true);
  }

  exec(sql: string): void {
    this.#request({ kind: 'exec', sql });
  }

  close(): void {
    if (this.#closed) return;
    try {
      // Ends the session politely (PostgreSQL releases its locks at once); never waits long.
      this.#request({ kind: 'close' }, 1_000);
    } catch {
      // Closing anyway.
    }
    this.#closed = true;
    this.#port.close();
    void this.#worker.terminate();
  }

  #request(body: RequestBody, timeoutMs = this.#timeoutMs, evenWhenDown = false): QueryAnswer | null {
    if (this.#closed) throw new StoreUnavailable('the store connection is closed');
    // Known to be down (the worker is reconnecting in the background): refuse at once rather than
    // hold the event loop for the whole timeout on every timer-driven write.
    if (this.#everConnected && !evenWhenDown && body.kind === 'query' && Atomics.load(this.#signal, 1) === 0) {
      throw new StoreUnavailable('the store is unreachable (reconnecting)');
    }
    if (!this.#everConnected) timeoutMs = Math.max(timeoutMs, FIRST_CONNECT_TIMEOUT_MS);
    const id = this.#nextId++;
    this.#port.postMessage({ ...body, id } as Request);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const seen = Atomics.load(this.#signal, 0);
      const received = receiveMessageOnPort(this.#port);
      if (received) {
        const answer = received.message as Answer;
        // A late answer to a request that already timed out: drop it.
        if (answer.id !== id) continue;
        if (answer.ok) {
          this.#everConnected = true;
          return answer.result;
        }
        throw toError(answer.error);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        this.#port.postMessage({ kind: 'reset', id: this.#nextId++ } as Request);
        throw new StoreUnavailable(`the store did not answer within ${timeoutMs} ms`);
      }
      Atomics.wait(this.#signal, 0, seen, left);
    }
  }
}

function toError(error: { message: string; code: string | undefined; constraint?: string }): Error {
  const sqlstate = error.code !== undefined && /^[0-9A-Z]{5}$/.test(error.code) ? error.code : undefined;
  // Class 08 (connection exception) and 57P (operator intervention: shutdown) mean the server is not there for us.
  if (sqlstate === undefined || sqlstate.startsWith('08') || sqlstate.startsWith('57P')) {
    return new StoreUnavailable(`the store is unreachable: ${error.message}`);
  }
  return new PostgresError(error.message, sqlstate, error.constraint);
}

/**
 * The compiled worker: next to this module in dist, or, when vitest runs
 * the TypeScript source, the same path under dist (`npm test` compiles first).
 */
function workerFile(): URL {
  const here = new URL('./worker.js', import.meta.url);
  if (!import.meta.url.endsWith('.ts')) return here;
  const compiled = new URL(here.href.replace(/\/src\/store\/postgres\/worker\.js$/, '/dist/src/store/postgres/worker.js'));
  if (!existsSync(fileURLToPath(compiled))) throw new Error(`${fileURLToPath(compiled)} is missing: run "npm run build" first`);
  return compiled;
}
