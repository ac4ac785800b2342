/** How often at most one credential's last use is written. */
export const LAST_USE_INTERVAL_MS = 60_000;

const MAX_TRACKED = 100_000;

/**
 * Throttles "last used" writes: a hot key used on every request writes at
 * most once per interval per credential, not once per request. Held in
 * memory per process; a restart writes the next use at once.
 *
 * @example if (lastUse.due(pat.id, now)) store.personalAccessTokens.touch(pat.id, now, remote);
 */
export class LastUseRecorder {
  readonly #written = new Map<string, number>();

  constructor(private readonly intervalMs = LAST_USE_INTERVAL_MS) {}

  /** True (and remembered) when `id`'s last use should be written now. */
  due(id: string, now: number): boolean {
    const last = this.#written.get(id);
    if (last !== undefined && now - last < this.intervalMs) return false;
    // Bounded: forgetting only costs an extra write.
    if (this.#written.size >= MAX_TRACKED) this.#written.clear();
    this.#written.set(id, now);
    return true;
  }
}
