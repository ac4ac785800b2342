import type { Logger } from '../log/logger.js';
import type { IssuedTokenRecord } from '../store/issued_tokens.js';
import type { Store } from '../store/store.js';

/** Longest a record waits in memory before it is written. */
const FLUSH_INTERVAL_MS = 250;
/** A burst this large is written at once rather than waiting for the timer. */
const FLUSH_BATCH = 1000;

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
      this.log.warn({ err, lost: batch.length }, 'recording issued tokens failed');
    }
  }

  /** Drops records of tokens expired at `nowSeconds`. */
  prune(nowSeconds: number): number {
    return this.store.db.open ? this.store.issuedTokens.prune(nowSeconds) : 0;
  }
}
