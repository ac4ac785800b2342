/** Bounds of the reconnect delay, milliseconds. */
export interface BackoffBounds {
  minMs: number;
  maxMs: number;
}

/**
 * Exponential backoff with "equal jitter": the n-th delay is drawn from
 * [max(minMs, cap/2), cap] where cap = min(maxMs, minMs * 2^n). Half of each
 * delay is fixed so a device never retries in a tight loop; the random half
 * spreads a fleet that lost the broker at the same instant so it does not
 * come back as one thundering herd. Delays stay within [minMs, maxMs].
 *
 * @example
 * const backoff = new Backoff({ minMs: 500, maxMs: 30_000 });
 * await sleep(backoff.next()); // 500 ms, then 500..1000 ms, 1000..2000 ms, ...
 * backoff.reset();             // after a successful connection
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly bounds: BackoffBounds,
    private readonly random: () => number = Math.random,
  ) {
    if (!(bounds.minMs > 0) || !(bounds.maxMs >= bounds.minMs)) {
      throw new RangeError(`backoff needs 0 < minMs <= maxMs, got ${bounds.minMs}..${bounds.maxMs}`);
    }
  }

  /** The delay before the next attempt; each call doubles the cap up to maxMs. */
  next(): number {
    // 2^attempt overflows to Infinity long after the cap is reached; Math.min keeps it bounded.
    const cap = Math.min(this.bounds.maxMs, this.bounds.minMs * 2 ** this.attempt);
    this.attempt += 1;
    return Math.max(this.bounds.minMs, Math.round(cap / 2 + (this.random() * cap) / 2));
  }

  /** The longest delay, used when the server said "not authorized" so it is never hammered. */
  max(): number {
    return this.bounds.maxMs;
  }

  reset(): void {
    this.attempt = 0;
  }
}
