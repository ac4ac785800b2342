import type { Db } from './database.js';

export const USERS_SCHEMA = `
CREATE TABLE users (
  name       TEXT PRIMARY KEY,
  scope      TEXT NOT NULL,
  status     TEXT NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);`;

export type UserStatus = 'enabled' | 'disabled';

export interface UserRecord {
  name: string;
  /** What the user may hold: no personal access token of theirs gets more. */
  scope: string;
  status: UserStatus;
  createdAt: number;
  updatedAt: number;
}

const COLUMNS = 'name, scope, status, created_at AS createdAt, updated_at AS updatedAt';

/** The users table: people who hold personal access tokens. Callers wrap writes in `durably`. */
export class UsersTable {
  readonly #get;
  readonly #list;
  readonly #insert;
  readonly #setStatus;
  readonly #setScope;
  readonly #delete;

  constructor(db: Db) {
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM users WHERE name = ?`);
    this.#list = db.prepare(`SELECT ${COLUMNS} FROM users ORDER BY name`);
    this.#insert = db.prepare(
      'INSERT INTO users (name, scope, status, created_at, updated_at) VALUES (@name, @scope, @status, @createdAt, @updatedAt)',
    );
    this.#setStatus = db.prepare('UPDATE users SET status = ?, updated_at = ? WHERE name = ?');
    this.#setScope = db.prepare('UPDATE users SET scope = ?, updated_at = ? WHERE name = ?');
    this.#delete = db.prepare('DELETE FROM users WHERE name = ?');
  }

  get(name: string): UserRecord | undefined {
    return this.#get.get(name) as UserRecord | undefined;
  }

  list(): UserRecord[] {
    return this.#list.all() as UserRecord[];
  }

  insert(user: UserRecord): void {
    this.#insert.run(user);
  }

  setStatus(name: string, status: UserStatus, now: number): boolean {
    return this.#setStatus.run(status, now, name).changes > 0;
  }

  setScope(name: string, scope: string, now: number): boolean {
    return this.#setScope.run(scope, now, name).changes > 0;
  }

  /** Deletes the user and (cascade) every personal access token of theirs. */
  delete(name: string): boolean {
    return this.#delete.run(name).changes > 0;
  }
}
