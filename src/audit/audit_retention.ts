import type { Store } from '../store/store.js';

/** Rows deleted per statement: each slice holds the write lock only briefly. */
const SLICE = 5000;

/**
 * Deletes audit events older than `olderThanSeconds` before `now`, in slices,
 * yielding to the event loop between them so a server pruning months of
 * events keeps serving; the server also passes a short `busyTimeoutMs` so a
 * lock held elsewhere fails the prune (retried next hour) instead of
 * stalling the event loop. Returns how many were deleted.
 *
 * @example const deleted = await pruneAudit(store, 90 * 86_400);
 */
export async function pruneAudit(store: Store, olderThanSeconds: number, opts: { now?: number; busyTimeoutMs?: number } = {}): Promise<number> {
  const now = opts.now ?? Date.now();
  const cutoff = now - olderThanSeconds * 1000;
  let total = 0;
  for (;;) {
    if (!store.db.open) return total;
    const deleted = store.audit.prune(cutoff, SLICE, opts.busyTimeoutMs);
    total += deleted;
    if (deleted < SLICE) return total;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
