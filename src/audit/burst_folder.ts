/** Most example values an aggregated row keeps. */
export const MAX_SAMPLES = 5;

/** Events of one key folded into one row: the first event's data, how many, and up to {@link MAX_SAMPLES} distinct examples. */
export interface Folded<T> {
  key: string;
  first: T;
  count: number;
  samples: string[];
  /** When the first folded event happened, ms. */
  firstAt: number;
}

interface KeyState<T> {
  /** When this key last produced a row, ms. */
  lastRowAt: number;
  pending: Folded<T> | null;
}

/**
 * Decides when a stream of similar events may produce an audit row: at most
 * one row per key per window. The first event of a quiet key is a row at
 * once (`offer` returns true); events within a window of the last row are
 * folded, and {@link due} hands them back as one row with a count once the
 * window has passed. Pure: time comes in as an argument.
 *
 * @example
 * const folder = new BurstFolder<Denial>(1000);
 * if (folder.offer('t1 publish', now, 'home/x', denial)) audit(denial);
 * for (const row of folder.due(Date.now())) auditFolded(row);
 */
export class BurstFolder<T> {
  readonly #keys = new Map<string, KeyState<T>>();

  constructor(private readonly windowMs: number) {}

  /** True: write this event as a row now. False: it was folded into the key's pending row. */
  offer(key: string, now: number, sample: string, data: T): boolean {
    const state = this.#keys.get(key);
    if (!state || (state.pending === null && now - state.lastRowAt >= this.windowMs)) {
      this.#keys.set(key, { lastRowAt: now, pending: null });
      return true;
    }
    if (state.pending === null) {
      state.pending = { key, first: data, count: 1, samples: [sample], firstAt: now };
    } else {
      state.pending.count++;
      if (state.pending.samples.length < MAX_SAMPLES && !state.pending.samples.includes(sample)) state.pending.samples.push(sample);
    }
    return false;
  }

  /**
   * The folded rows whose window has ended at `now`; each counts as its key's
   * row at `now`. Keys quiet for a whole window are forgotten, so memory
   * follows the current traffic, not its history.
   */
  due(now: number): Folded<T>[] {
    const rows: Folded<T>[] = [];
    for (const [key, state] of this.#keys) {
      if (now - state.lastRowAt < this.windowMs) continue;
      if (state.pending) {
        rows.push(state.pending);
        state.pending = null;
        state.lastRowAt = now;
      } else {
        this.#keys.delete(key);
      }
    }
    return rows;
  }

  /** Every pending row, window or not (at shutdown). */
  drain(): Folded<T>[] {
    const rows = [...this.#keys.values()].flatMap((s) => (s.pending ? [s.pending] : []));
    this.#keys.clear();
    return rows;
  }

  /** Keys currently tracked (for tests and metrics). */
  get size(): number {
    return this.#keys.size;
  }
}
