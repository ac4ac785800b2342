/**
 * The synchronous PostgreSQL driver when PostgreSQL goes away: a bounded
 * wait, an error code callers act on, and a connection that comes back by itself.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';
import { SyncConnection } from '../../src/store/postgres/sync_connection.js';
import { asPostgresAdmin, havePostgres, postgresDatabase, type TestDatabase } from '../helpers/services.js';

/**
 * Cuts the database off: no new connections (so the store cannot reconnect
 * behind the test's back) and every open one terminated. Returns how many
 * were open, and a function that lets connections in again.
 */
async function cutOff(url: string): Promise<{ terminated: number; restore(): Promise<void> }> {
  const name = new URL(url).pathname.slice(1);
  const database = pg.escapeIdentifier(name);
  await asPostgresAdmin(`ALTER DATABASE ${database} ALLOW_CONNECTIONS false`);
  const result = await asPostgresAdmin('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
  return { terminated: result.rowCount ?? 0, restore: async () => void (await asPostgresAdmin(`ALTER DATABASE ${database} ALLOW_CONNECTIONS true`)) };
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

  it('a killed connection fails fast with store_unavailable while PostgreSQL refuses it, then the store works again', { timeout: 60_000 }, async () => {
    db = await postgresDatabase();
    const store = Store.open(db.url);
    try {
      expect(store.reachable()).toEqual({ ok: true });
      const outage = await cutOff(db.url);
      expect(outage.terminated).toBeGreaterThan(0);
      let failure: unknown;
      try {
        store.clients.list();
      } catch (err) {
        failure = err;
      }
      expect(failure).toMatchObject({ code: 'store_unavailable' });
      // While down, statements are refused at once rather than each waiting out the 5 s bound.
      const started = Date.now();
      let refused = 0;
      for (let i = 0; i < 20; i++) {
        try {
          store.clients.list();
        } catch (err) {
          if ((err as { code?: string }).code === 'store_unavailable') refused++;
        }
      }
      expect(refused).toBe(20);
      expect(Date.now() - started).toBeLessThan(2_000);
      await outage.restore();
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
