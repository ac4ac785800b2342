/**
 * Counts failed authentications per key (a client id, or a remote address)
 * and locks a key out once it reaches `limit` failures inside one window.
 *
 * Memory is bounded: at most `maxEntries` keys are tracked; when full,
 * expired entries are swept first, then the oldest unlocked, and only
 * then the oldest locked ones. Keys that
 * only ever succeed are never stored.
 *
 * @example
 * const limiter = new FailureLimiter({ limit: 10, windowSeconds: 60 });
 * if (limiter.retryAfter('t1') > 0) refuse();
 * limiter.fail('t1');
 */
export class FailureLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, { count: number; windowEnds: number; lockedUntil: number }>();

  constructor(options: { limit: number; windowSeconds: number; maxEntries?: number; now?: () => number }) {
    this.#limit = options.limit;
    this.#windowMs = Math.max(1, options.windowSeconds) * 1000;
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

  /** Records one failure; the `limit`-th failure in a window locks the key for one window. */
  fail(key: string): void {
    if (this.#limit <= 0) return;
    const now = this.#now();
    let entry = this.#entries.get(key);
    if (!entry || (now >= entry.windowEnds && now >= entry.lockedUntil)) {
      entry = { count: 0, windowEnds: now + this.#windowMs, lockedUntil: 0 };
    }
    entry.count += 1;
    if (entry.count >= this.#limit) entry.lockedUntil = now + this.#windowMs;
    // Re-insert so Map order is least-recently-failed first, the eviction order.
    this.#entries.delete(key);
    this.#makeRoom(now);
    this.#entries.set(key, entry);
  }

  /** Forgets `key`'s failures (a client that proved itself). */
  reset(key: string): void {
    this.#entries.delete(key);
  }

  /** Keys currently tracked (for tests and metrics). */
  get size(): number {
    return this.#entries.size;
  }

  #makeRoom(now: number): void {
    if (this.#entries.size < this.#maxEntries) return;
    for (const [key, entry] of this.#entries) {
      if (now >= entry.windowEnds && now >= entry.lockedUntil) this.#entries.delete(key);
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
