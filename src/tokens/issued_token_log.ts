import type { Logger } from '../log/logger.js';
import type { IssuedTokenRecord } from '../store/issued_tokens.js';
import type { Store } from '../store/store.js';

/** Longest a record waits in memory before it is written. */
const FLUSH_INTERVAL_MS = 250;
/** A burst this large is written at once rather than waiting for the timer. */
const FLUSH_BATCH = 1000;
/** Most records held while the store refuses writes; past it the oldest are dropped (a shorter list, never a stall). */
const MAX_BUFFERED = 50_000;

/**
 * Remembers which access tokens were issued (jti, client, iat, exp, how;
 * never the token) so `token list` can show the live ones. The token
 * endpoint is benchmarked, so nothing is written on its path: records are
 * buffered and written in one transaction per interval, as the audit log
 * does. A crash loses at most the last interval's records, which only
 * shortens a list; the tokens themselves stay verifiable and revocable.
 */
export class IssuedTokenLog {
  #buffer: IssuedTokenRecord[] = [];
  #timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  record(entry: IssuedTokenRecord): void {
    this.#buffer.push(entry);
    if (this.#buffer.length >= FLUSH_BATCH) {
      setImmediate(() => this.flush());
    } else if (!this.#timer) {
      this.#timer = setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
      this.#timer.unref();
    }
  }

  /** Writes what is buffered; called by the timer, by readers in this process, and before exit. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#buffer.length === 0 || !this.store.db.open) return;
    const batch = this.#buffer;
    this.#buffer = [];
    try {
      this.store.issuedTokens.insertMany(batch);
    } catch (err) {
      // Busy (another process holds the lock) or failing: keep them for the next try, bounded.
      this.#buffer = [...batch, ...this.#buffer];
      const dropped = Math.max(0, this.#buffer.length - MAX_BUFFERED);
      if (dropped > 0) this.#buffer.splice(0, dropped);
      this.log.warn({ err: (err as Error).message, waiting: this.#buffer.length, dropped }, 'recording issued tokens failed; will retry');
      if (!this.#timer) {
        this.#timer = setTimeout(() => this.flush(), 1000);
        this.#timer.unref();
      }
    }
  }

  /** Drops records of tokens expired at `nowSeconds`. */
  prune(nowSeconds: number): number {
    if (!this.store.db.open) return 0;
    try {
      return this.store.issuedTokens.prune(nowSeconds);
    } catch (err) {
      // Busy: the next housekeeping round prunes them.
      this.log.warn({ err: (err as Error).message }, 'pruning issued tokens failed; will retry');
      return 0;
    }
  }
}
