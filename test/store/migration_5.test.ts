import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { runMigrations } from '../../src/store/migrations.js';

describe('migration 5: client incarnations, certificates of deleted clients revoked', () => {
  it('revokes the certificates an earlier client of the same id (or a deleted one) left valid, keeps the rest', () => {
    const db = new Database(':memory:');
    db.pragma('foreign_keys = ON');
    runMigrations(db, 4);
    const client = db.prepare("INSERT INTO clients (id, scope, token_ttl, status, created_at, updated_at) VALUES (?, 'mqtt:publish:a', 600, 'enabled', ?, ?)");
    client.run('kept', 1000, 1000);
    client.run('recreated', 5000, 5000);
    const cert = db.prepare("INSERT INTO certificates (issuer, serial, client_id, fingerprint, not_before, not_after, created_at) VALUES ('ski:x', ?, ?, 'fp', 0, 9e15, ?)");
    cert.run('01', 'kept', 2000); // issued to the client that exists: stays valid
    cert.run('02', 'recreated', 3000); // issued before "recreated" was (re-)created: a predecessor's
    cert.run('03', 'recreated', 6000); // the current one's
    cert.run('04', 'gone', 2000); // its client was deleted

    runMigrations(db, 5);

    expect(db.pragma('user_version', { simple: true })).toBe(5);
    const revoked = db.prepare('SELECT serial FROM certificates WHERE revoked_at IS NOT NULL ORDER BY serial').pluck().all();
    expect(revoked).toEqual(['02', '04']);
    const at = db.prepare("SELECT revoked_at FROM certificates WHERE serial = '02'").pluck().get() as number;
    expect(Math.abs(at - Date.now())).toBeLessThan(60_000);
    // Clients from before keep no incarnation ("legacy").
    expect(db.prepare('SELECT incarnation FROM clients').pluck().all()).toEqual([null, null]);
  });
});
