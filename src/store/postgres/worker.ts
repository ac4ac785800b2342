/**
 * The thread that owns the PostgreSQL connection of a {@link SyncConnection}
 * (sync_connection.ts explains why). It answers one request at a time, in
 * order, posts the answer, then bumps the shared signal the main thread is
 * blocked on. A lost connection is dropped and made again on the next
 * request; the request that met the loss gets the error.
 */
import pg from 'pg';
import { workerData } from 'node:worker_threads';
import type { Answer, QueryAnswer, Request, WorkerStart } from './protocol.js';

const INT8_OID = 20;
// Every latchkey number is a millisecond timestamp or a count: far below 2^53.
const types = {
  getTypeParser(oid: number, format?: string) {
    if (oid === INT8_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

const { url, signal, port, connectTimeoutMs } = workerData as WorkerStart;
let client: pg.Client | null = null;
let connecting: Promise<pg.Client> | null = null;
let closing = false;
let retryMs = 0;
let retryTimer: NodeJS.Timeout | null = null;

/** signal[1]: 1 while connected. The main thread fails fast on 0 instead of waiting out its timeout. */
function setConnected(up: boolean): void {
  Atomics.store(signal, 1, up ? 1 : 0);
}

function connection(): Promise<pg.Client> {
  if (client) return Promise.resolve(client);
  connecting ??= (async () => {
    const fresh = new pg.Client({ connectionString: url, types, connectionTimeoutMillis: connectTimeoutMs });
    // An idle connection that drops must not crash the thread: mark it down and reconnect in the background.
    fresh.on('error', () => {
      if (client === fresh) lost();
    });
    try {
      await fresh.connect();
    } catch (err) {
      fresh.end().catch(() => undefined);
      throw err;
    }
    client = fresh;
    retryMs = 0;
    setConnected(true);
    return fresh;
  })().finally(() => {
    connecting = null;
  });
  return connecting;
}

/** The connection is gone (or given up on): drop it and try again in the background, backing off to 2 s. */
function lost(): void {
  const old = client;
  client = null;
  setConnected(false);
  old?.end().catch(() => undefined);
  if (closing || retryTimer) return;
  retryMs = Math.min(Math.max(retryMs * 2, 250), 2_000);
  retryTimer = setTimeout(() => {
    retryTimer = null;
    connection().catch(() => lost());
  }, retryMs);
}

function dropConnection(): void {
  lost();
}

/** Buffers arrive as Uint8Arrays; pg sends only Buffers as bytea. */
function bindable(value: unknown): unknown {
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return value;
}

async function handle(request: Request): Promise<QueryAnswer | null> {
  switch (request.kind) {
    case 'query': {
      const c = await connection();
      const result = await c.query({ text: request.sql, values: request.params.map(bindable) });
      return { rows: result.rows as Record<string, unknown>[], fields: result.fields.map((f) => f.name), rowCount: result.rowCount ?? 0 };
    }
    case 'exec': {
      const c = await connection();
      await c.query(request.sql);
      return null;
    }
    case 'reset':
      dropConnection();
      return null;
    case 'close': {
      closing = true;
      if (retryTimer) clearTimeout(retryTimer);
      const old = client;
      client = null;
      await old?.end().catch(() => undefined);
      // After the answer has gone: see the message handler.
      return null;
    }
  }
}

function answer(message: Answer): void {
  port.postMessage(message);
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
}

let queue = Promise.resolve();
port.on('message', (request: Request) => {
  if (request.kind === 'reset') {
    // Not queued: the request the main thread gave up on may still be running, and it must die with its connection.
    lost();
    answer({ id: request.id, ok: true, result: null });
    return;
  }
  // One at a time, in arrival order: a transaction is a sequence of requests.
  queue = queue.then(async () => {
    try {
      answer({ id: request.id, ok: true, result: await handle(request) });
      if (request.kind === 'close') port.close();
    } catch (err) {
      const e = err as Error & { code?: string; detail?: string; constraint?: string };
      // A broken socket (no SQLSTATE) means the connection is gone: make a new one next time.
      if (typeof e.code !== 'string' || !/^[0-9A-Z]{5}$/.test(e.code) || e.code.startsWith('08') || e.code.startsWith('57P')) dropConnection();
      answer({ id: request.id, ok: false, error: { message: e.message, code: e.code, ...(e.detail ? { detail: e.detail } : {}), ...(e.constraint ? { constraint: e.constraint } : {}) } });
    }
  });
});
