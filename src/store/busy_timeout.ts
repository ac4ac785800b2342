import type { Db } from './database.js';

/**
 * How long the server's own batched, best-effort writes (live sessions,
 * issued tokens) wait for the write lock: another process holding it must
 * never stall the event loop for the connection's 5 s. A busy batch fails
 * with SQLITE_BUSY and is retried later by its owner.
 */
export const BATCH_BUSY_TIMEOUT_MS = 100;

/**
 * Runs `work` with the connection's lock wait lowered to `busyTimeoutMs`,
 * then restores it. better-sqlite3 is synchronous: a long wait blocks the
 * whole event loop.
 *
 * @example withBusyTimeout(db, 100, () => insertBatch.immediate(rows))
 */
export function withBusyTimeout<T>(db: Db, busyTimeoutMs: number, work: () => T): T {
  const usual = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  try {
    return work();
  } finally {
    db.pragma(`busy_timeout = ${usual}`);
  }
}
