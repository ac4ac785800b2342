/**
 * The synchronous PostgreSQL driver when PostgreSQL goes away: a bounded
 * wait, an error code callers act on, and a connection that comes back by itself.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';
import { SyncConnection } from '../../src/store/postgres/sync_connection.js';
import { havePostgres, postgresDatabase, type TestDatabase } from '../helpers/services.js';

async function terminateBackends(url: string): Promise<number> {
  const database = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    const result = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database]);
    return result.rowCount ?? 0;
  } finally {
    await admin.end();
  }
}

describe.skipIf(!havePostgres())('PostgreSQL store outages (skipped without PostgreSQL)', () => {
  let db: TestDatabase | null = null;
  afterEach(async () => {
    await db?.drop();
    db = null;
  });

  it('a statement that does not answer in time throws store_unavailable after the bound, and the next one works', { timeout: 60_000 }, async () => {
    db = await postgresDatabase();
    const connection = new SyncConnection(db.url, 500);
    try {
      expect(connection.query('SELECT 1 AS one', []).rows).toEqual([{ one: 1 }]);
      const started = Date.now();
      expect(() => connection.query('SELECT pg_sleep(20)', [])).toThrow(expect.objectContaining({ code: 'store_unavailable' }));
      const waited = Date.now() - started;
      expect(waited).toBeGreaterThanOrEqual(450);
      // Bounded: far below the 20 s the statement would take (the margin is for a loaded machine).
      expect(waited).toBeLessThan(5_000);
      // The worker dropped the stuck connection and makes a new one in the background.
      const deadline = Date.now() + 20_000;
      let answer: unknown;
      while (answer === undefined) {
        try {
          answer = connection.query('SELECT 2 AS two', []).rows[0];
        } catch (err) {
          if ((err as { code?: string }).code !== 'store_unavailable' || Date.now() > deadline) throw err;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
      expect(answer).toEqual({ two: 2 });
    } finally {
      connection.close();
    }
  });

  it('a killed connection fails fast with store_unavailable while reconnecting, then the store works again', { timeout: 60_000 }, async () => {
    db = await postgresDatabase();
    const store = Store.open(db.url);
    try {
      expect(store.reachable()).toEqual({ ok: true });
      expect(await terminateBackends(db.url)).toBeGreaterThan(0);
      let failure: unknown;
      try {
        store.clients.list();
      } catch (err) {
        failure = err;
      }
      expect(failure).toMatchObject({ code: 'store_unavailable' });
      // While down, statements are refused at once rather than each waiting out the 5 s bound.
      const started = Date.now();
      for (let i = 0; i < 20; i++) {
        try {
          store.clients.list();
        } catch {
          // Refused or, once reconnected, answered.
        }
      }
      expect(Date.now() - started).toBeLessThan(2_000);
      const deadline = Date.now() + 20_000;
      while (!store.reachable().ok) {
        if (Date.now() > deadline) throw new Error('the store did not come back');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(store.clients.list()).toEqual([]);
    } finally {
      store.close();
    }
  });
});
