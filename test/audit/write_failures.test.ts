import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AuditLog } from '../../src/audit/audit_log.js';
import { createLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { Store } from '../../src/store/store.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/latchkey.js';
import { eventually } from '../helpers/mqtt.js';

/** A second connection holding the write lock: what another process (or a stuck backup) looks like to us. */
function holdWriteLock(file: string): Database.Database {
  const other = new Database(file);
  other.pragma('busy_timeout = 0');
  other.exec('BEGIN EXCLUSIVE');
  return other;
}

function metricValue(text: string, name: string): number {
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0);
}

describe('the server when the audit table refuses writes', () => {
  let lk: TestServer;
  let secret: string;
  beforeAll(async () => {
    lk = await startTestServer();
    secret = lk.createClient('steady', 'mqtt:publish:x');
  });
  afterAll(() => lk.close());

  test('keeps serving, counts the failures in /metrics, and writes the events once the lock is released', async () => {
    const file = join(lk.dataDir, 'latchkey.db');
    const since = Date.now();
    const locker = holdWriteLock(file);
    let released = false;
    try {
      // Tokens are issued (each one an audit event) while no audit row can be written.
      for (let i = 0; i < 5; i++) expect((await lk.token('steady', secret)).access_token).toMatch(/^ey/);
      const health = await fetch(`${lk.baseUrl}/healthz`);
      expect(health.status).toBe(200);
      let metrics = '';
      await eventually(
        async () => metricValue((metrics = await (await fetch(`${lk.baseUrl}/metrics`)).text()), 'latchkey_audit_write_failures_total') >= 1,
        5000,
        'a failed audit write counted',
      );
      expect(metrics).toMatch(/latchkey_audit_write_failures_total\{code="SQLITE_BUSY"\} \d+/);
      // Nothing landed while the lock was held.
      const landed = locker.prepare("SELECT COUNT(*) FROM audit_events WHERE event = 'token.issued' AND principal = 'steady' AND at >= ?").pluck();
      expect(landed.get(since)).toBe(0);
      expect(lk.server.audit.pending).toBeGreaterThanOrEqual(5);

      locker.exec('COMMIT');
      released = true;
      // The retry writes them; read through the other connection so the test itself flushes nothing.
      await eventually(() => (landed.get(since) as number) === 5, 10_000, 'the buffered events written after the lock is released');
      expect((await lk.token('steady', secret)).access_token).toMatch(/^ey/);
    } finally {
      if (!released) locker.exec('ROLLBACK');
      locker.close();
    }
  });
});

describe('AuditLog buffer bound', () => {
  test('while writes fail, at most maxBuffered events wait; the oldest are dropped and counted; the rest land later', async () => {
    const dir = tempDir();
    const file = join(dir, 'latchkey.db');
    const store = Store.open(file);
    const metrics = new Metrics();
    const audit = new AuditLog(store, createLogger('silent'), { metrics, maxBuffered: 5, busyTimeoutMs: 0, retryMs: 50 });
    const locker = holdWriteLock(file);
    try {
      for (let i = 0; i < 20; i++) audit.record({ event: 'test.event', outcome: 'success', detail: { i } });
      expect(audit.flush()).toBe(false);
      expect(audit.pending).toBe(5);
      const text = await metrics.text();
      expect(metricValue(text, 'latchkey_audit_events_dropped_total')).toBe(15);
      expect(metricValue(text, 'latchkey_audit_write_failures_total')).toBeGreaterThanOrEqual(1);
      locker.exec('COMMIT');
      // The retry timer writes what is left: the five newest.
      await eventually(() => audit.pending === 0, 5000, 'retry after the lock is released');
      const rows = store.audit.query({ event: 'test.event', limit: 100 });
      expect(rows.map((r) => (r.detail as { i: number }).i).sort((a, b) => a - b)).toEqual([15, 16, 17, 18, 19]);
    } finally {
      if (locker.inTransaction) locker.exec('ROLLBACK');
      locker.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
