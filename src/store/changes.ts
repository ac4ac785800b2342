import type { Db } from './database.js';

export const CHANGES_SCHEMA = `
CREATE TABLE changes (
  id      INTEGER PRIMARY KEY AUTOINCREMENT,
  at      INTEGER NOT NULL,
  kind    TEXT NOT NULL,
  subject TEXT NOT NULL
);`;

/**
 * What a change touched, so a running server can act on changes made by
 * another process (the CLI): end sessions, reload keys, refresh caches.
 */
export type ChangeKind =
  | 'client' // a client was created, changed, disabled, enabled or deleted; subject = client id
  | 'principal_deleted' // a client, user or API key was deleted (even if re-created since): its persistent MQTT sessions go; subject = its name
  | 'secret' // a client secret was added or rotated; subject = client id
  | 'token_revoked' // subject = jti
  | 'keys' // signing keys rotated; subject = kid
  | 'certificate_revoked' // subject = serial
  | 'principal' // a user, PAT or API key changed; subject = its name
  | 'static_password' // a client's static MQTT password was set, rotated or revoked; subject = client id
  | 'session_kick'; // an operator ended a live session; subject = MQTT client id

export interface Change {
  id: number;
  kind: ChangeKind;
  subject: string;
}

/**
 * The change feed: writers append in the same transaction as the change;
 * the server polls `since(lastId)` only when `PRAGMA data_version` moved.
 */
export class ChangeFeed {
  readonly #append;
  readonly #since;
  readonly #last;
  readonly #prune;
  /**
   * Called (on the next turn, after the writer's transaction has committed)
   * when this process appends a change, so the server reacts at once
   * instead of at its next poll.
   */
  onAppend: (() => void) | null = null;
  #notifyScheduled = false;

  constructor(db: Db) {
    this.#append = db.prepare('INSERT INTO changes (at, kind, subject) VALUES (?, ?, ?)');
    this.#since = db.prepare('SELECT id, kind, subject FROM changes WHERE id > ? ORDER BY id LIMIT 1000');
    this.#last = db.prepare('SELECT COALESCE(MAX(id), 0) AS id FROM changes');
    this.#prune = db.prepare('DELETE FROM changes WHERE at < ?');
  }

  append(kind: ChangeKind, subject: string): void {
    this.#append.run(Date.now(), kind, subject);
    if (this.onAppend && !this.#notifyScheduled) {
      this.#notifyScheduled = true;
      setImmediate(() => {
        this.#notifyScheduled = false;
        this.onAppend?.();
      });
    }
  }

  since(id: number): Change[] {
    return this.#since.all(id) as Change[];
  }

  lastId(): number {
    return (this.#last.get() as { id: number }).id;
  }

  /** Drops entries older than `ageMs`; a poller never lags that far. */
  prune(ageMs: number): void {
    this.#prune.run(Date.now() - ageMs);
  }
}
