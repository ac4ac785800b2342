interface Entry {
  /** Failures in the current window. */
  count: number;
  windowEnds: number;
  lockedUntil: number;
  /** Lock-outs so far; each one lasts twice as long as the one before. */
  strikes: number;
  /** When the key is forgotten, strikes included, if nothing fails before. */
  forgetAt: number;
}

/**
 * Counts failed authentications per key (a client id and address pair, or
 * an address) and locks a key out once it reaches `limit` failures inside
 * one window. Back-off grows: the first lock lasts one window, each further
 * one twice the one before (up to `maxLockSeconds`). A key that stays quiet
 * for as long as its last lock lasted, after the lock, is forgotten with its
 * strikes; a success (`reset`) forgets it at once.
 *
 * Memory is bounded: at most `maxEntries` keys are tracked; when full,
 * expired entries are swept first, then the oldest unlocked, and only
 * then the oldest locked ones. Keys that only ever succeed are never stored.
 *
 * @example
 * const limiter = new FailureLimiter({ limit: 10, windowSeconds: 60 });
 * if (limiter.retryAfter('t1 192.0.2.7') > 0) refuse();
 * limiter.fail('t1 192.0.2.7');
 */
export class FailureLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #maxLockMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();

  constructor(options: { limit: number; windowSeconds: number; maxLockSeconds?: number; maxEntries?: number; now?: () => number }) {
    this.#limit = options.limit;
    this.#windowMs = Math.max(1, options.windowSeconds) * 1000;
    // An hour by default: long enough to make guessing pointless, short enough that a device
    // with a fixed secret is back the same hour without an operator.
    this.#maxLockMs = Math.max(this.#windowMs, (options.maxLockSeconds ?? 3600) * 1000);
    this.#maxEntries = options.maxEntries ?? 50_000;
    this.#now = options.now ?? Date.now;
  }

  /** Whole seconds until `key` may try again; 0 when it is not locked (or limiting is off: limit 0). */
  retryAfter(key: string): number {
    const entry = this.#entries.get(key);
    if (!entry) return 0;
    const left = entry.lockedUntil - this.#now();
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }

  /**
   * Records one failure; the `limit`-th failure in a window locks the key,
   * for one window the first time and twice as long each time after.
   */
  fail(key: string): void {
    if (this.#limit <= 0) return;
    const now = this.#now();
    let entry = this.#entries.get(key);
    if (!entry || this.#expired(entry, now)) {
      entry = { count: 0, windowEnds: now + this.#windowMs, lockedUntil: 0, strikes: 0, forgetAt: now + this.#windowMs };
    } else if (now >= entry.windowEnds && now >= entry.lockedUntil) {
      // A new window; the strikes stay until the key has been quiet long enough.
      entry.count = 0;
      entry.windowEnds = now + this.#windowMs;
      entry.forgetAt = Math.max(entry.forgetAt, entry.windowEnds);
    }
    entry.count += 1;
    if (entry.count >= this.#limit && now >= entry.lockedUntil) {
      entry.strikes += 1;
      const lockMs = Math.min(this.#windowMs * 2 ** Math.min(entry.strikes - 1, 30), this.#maxLockMs);
      entry.lockedUntil = now + lockMs;
      entry.count = 0;
      entry.windowEnds = entry.lockedUntil;
      entry.forgetAt = entry.lockedUntil + lockMs;
    }
    // Re-insert so Map order is least-recently-failed first, the eviction order.
    this.#entries.delete(key);
    this.#makeRoom(now);
    this.#entries.set(key, entry);
  }

  /** Forgets `key`'s failures and strikes (a client that proved itself). */
  reset(key: string): void {
    this.#entries.delete(key);
  }

  /** Keys currently tracked (for tests and metrics). */
  get size(): number {
    return this.#entries.size;
  }

  #expired(entry: Entry, now: number): boolean {
    return now >= entry.forgetAt && now >= entry.lockedUntil;
  }

  #makeRoom(now: number): void {
    if (this.#entries.size < this.#maxEntries) return;
    for (const [key, entry] of this.#entries) {
      if (this.#expired(entry, now)) this.#entries.delete(key);
    }
    // Then unlocked keys, oldest first: a flood of fresh failures must not push a lock out.
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size < this.#maxEntries) return;
      if (entry.lockedUntil <= now) this.#entries.delete(key);
    }
    for (const key of this.#entries.keys()) {
      if (this.#entries.size < this.#maxEntries) return;
      this.#entries.delete(key);
    }
  }
}
