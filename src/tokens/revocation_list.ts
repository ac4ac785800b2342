import type { Store } from '../store/store.js';

/**
 * Revoked jtis held in memory, so no token check touches the database.
 * Refreshed from the store when the change feed says so; entries fall out
 * once their token would have expired anyway.
 */
export class RevocationList {
  #revoked = new Map<string, number>();

  constructor(private readonly store: Store) {
    this.reload();
  }

  reload(): void {
    const now = Math.floor(Date.now() / 1000);
    this.#revoked = new Map(this.store.revocations.unexpired(now).map((r) => [r.jti, r.exp]));
  }

  has(jti: string): boolean {
    return this.#revoked.has(jti);
  }

  /** Records a revocation made in this process without waiting for the poll. */
  add(jti: string, exp: number): void {
    this.#revoked.set(jti, exp);
  }

  /** Drops entries whose tokens have expired, here and in the store. */
  prune(): void {
    const now = Math.floor(Date.now() / 1000);
    for (const [jti, exp] of this.#revoked) if (exp <= now) this.#revoked.delete(jti);
    this.store.revocations.prune(now);
  }
}
