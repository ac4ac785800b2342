import type { Logger } from '../log/logger.js';
import type { Change, ChangeKind } from '../store/changes.js';
import type { Store } from '../store/store.js';

export type ChangeHandlers = Partial<Record<ChangeKind, (subject: string) => void | Promise<void>>>;

/**
 * Applies changes made anywhere (this process, or the CLI in another one)
 * to the running server. Another process's commit moves `PRAGMA
 * data_version`, which is polled cheaply; this process's own writes notify
 * through the feed's `onAppend`. Never a query per message.
 */
export class ChangeWatcher {
  #lastId: number;
  #lastVersion: number;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  /** Reading the feed failed last time (logged once per outage). */
  #failing = false;

  constructor(
    private readonly store: Store,
    private readonly handlers: ChangeHandlers,
    private readonly log: Logger,
  ) {
    this.#lastId = store.changes.lastId();
    this.#lastVersion = store.dataVersion();
  }

  start(intervalMs: number): void {
    this.store.changes.onAppend = () => void this.check();
    this.#timer = setInterval(() => {
      const version = this.store.dataVersion();
      if (version !== this.#lastVersion) {
        this.#lastVersion = version;
        void this.check();
      }
    }, intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.store.changes.onAppend = null;
  }

  /** Reads and dispatches every change since the last one seen; calls never overlap. */
  async check(): Promise<void> {
    while (this.#running) await this.#running;
    this.#running = this.#drain();
    try {
      await this.#running;
    } finally {
      this.#running = null;
    }
  }

  async #drain(): Promise<void> {
    if (!this.store.db.open) return;
    let batch: Change[];
    try {
      batch = this.store.changes.since(this.#lastId);
    } catch (err) {
      // The store is away (PostgreSQL down): look again at the next poll; the feed is read by id, nothing is lost.
      this.#readFailed(err);
      return;
    }
    this.#failing = false;
    for (; batch.length > 0; batch = this.#nextBatch()) {
      for (const change of batch) {
        this.#lastId = change.id;
        try {
          await this.handlers[change.kind]?.(change.subject);
        } catch (err) {
          this.log.error({ err, change }, 'applying a change failed');
        }
      }
    }
  }

  /** The next batch, or none when the store fails meanwhile (the next poll retries). */
  #nextBatch(): Change[] {
    try {
      return this.store.changes.since(this.#lastId);
    } catch (err) {
      this.#readFailed(err);
      return [];
    }
  }

  #readFailed(err: unknown): void {
    this.#lastVersion = Number.NaN;
    if (!this.#failing) this.log.warn({ err: (err as Error).message }, 'reading the change feed failed; retrying at every poll');
    this.#failing = true;
  }
}
