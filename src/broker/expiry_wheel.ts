/**
 * One timer for every session deadline: entries are bucketed by whole
 * second and a single interval fires whatever is due. Cheaper than a timer
 * per session at 10,000 sessions, and precise to the tick (250 ms), well
 * inside the 1 s docs/INTERFACE.md#mqtt allows.
 */
export class ExpiryWheel<T> {
  readonly #buckets = new Map<number, Set<T>>();
  readonly #dueOf = new Map<T, number>();
  #timer: NodeJS.Timeout | null = null;
  #cursor = Math.floor(Date.now() / 1000);

  constructor(private readonly fire: (item: T) => void) {}

  start(tickMs = 250): void {
    this.#timer = setInterval(() => this.tick(), tickMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  /** Schedules `item` at `dueSeconds` (epoch seconds, may be fractional), replacing any earlier schedule. */
  schedule(item: T, dueSeconds: number): void {
    this.cancel(item);
    if (!Number.isFinite(dueSeconds)) return;
    // Round up: firing early would end a session before its credential expires.
    const second = Math.ceil(dueSeconds);
    let bucket = this.#buckets.get(second);
    if (!bucket) this.#buckets.set(second, (bucket = new Set()));
    bucket.add(item);
    this.#dueOf.set(item, second);
  }

  cancel(item: T): void {
    const second = this.#dueOf.get(item);
    if (second === undefined) return;
    this.#dueOf.delete(item);
    const bucket = this.#buckets.get(second);
    bucket?.delete(item);
    if (bucket?.size === 0) this.#buckets.delete(second);
  }

  /** Fires everything due up to now. */
  tick(now = Date.now() / 1000): void {
    const until = Math.floor(now);
    // Buckets may be scheduled behind the cursor (a deadline already past): catch them too.
    const overdue = [...this.#buckets.keys()].filter((s) => s < this.#cursor);
    for (const second of [...overdue, ...range(this.#cursor, until)]) {
      const bucket = this.#buckets.get(second);
      if (!bucket) continue;
      this.#buckets.delete(second);
      for (const item of bucket) {
        this.#dueOf.delete(item);
        this.fire(item);
      }
    }
    this.#cursor = until + 1;
  }
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let s = from; s <= to; s++) out.push(s);
  return out;
}
