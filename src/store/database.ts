import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runMigrations } from './migrations.js';
import type { Db } from './sql.js';
import { createPrivateFile, tightenFiles } from './private_files.js';

export type { Db } from './sql.js';
/** A better-sqlite3 connection: a {@link Db} as it is, plus what only SQLite has (MQTT persistence uses it). */
export type SqliteDb = Database.Database;

/** Where the database lives: `<data-dir>/latchkey.db` (docs/INTERFACE.md#running-the-server). */
export function databasePath(config: { dataDir: string }): string {
  return join(config.dataDir, 'latchkey.db');
}

/**
 * Opens (creating if needed) the SQLite database in WAL mode and brings its
 * schema up to date. WAL lets the CLI write while the server reads, and
 * `synchronous=NORMAL` keeps ordinary writes cheap; credential and revocation
 * writes go through {@link durably} instead.
 *
 * @example const db = openDatabase('./data/latchkey.db');
 */
export function openDatabase(file: string): SqliteDb {
  if (file !== ':memory:') {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    // 0600 from its first byte; SQLite gives -wal and -shm the database file's mode.
    createPrivateFile(file);
  }
  const db = new Database(file);
  // First: the CLI and the server share the file, so even switching to WAL
  // must wait for a writer instead of failing.
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // A database an older version made 0644 (or a restore did) is tightened by whoever opens it next.
  if (file !== ':memory:') tightenFiles([file, `${file}-wal`, `${file}-shm`]);
  runMigrations(db);
  // Defence in depth: deleted rows are zeroed inside the pages SQLite writes anyway (no extra I/O).
  // The defence itself is never writing a token (credential_safe_persistence.ts).
  db.pragma('secure_delete = FAST');
  return db;
}

/**
 * Runs `work` in one immediate transaction committed with `synchronous=FULL`,
 * so an acknowledged credential or revocation change survives kill -9 and
 * power loss. The pragma cannot change inside a transaction, hence around it.
 *
 * @example durably(db, () => insertSecret.run(...));
 */
export function durably<T>(db: Db, work: () => T): T {
  db.pragma('synchronous = FULL');
  try {
    return db.transaction(work).immediate();
  } finally {
    db.pragma('synchronous = NORMAL');
  }
}

/** Milliseconds since the epoch: every `*_at` column uses it. */
export function nowMs(): number {
  return Date.now();
}

