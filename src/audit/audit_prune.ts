import type { Store } from '../store/store.js';
import type { AuditLog } from './audit_log.js';

/**
 * `audit prune` on demand, from the CLI or the admin API: deletes audit
 * events older than `seconds` and records who did it. The record is written
 * after the deletion, so it is never among what it deleted.
 *
 * @example await pruneAuditEvents(store, audit, 90 * 86_400, '90d', 'cli') // { deleted: 12 }
 */
export async function pruneAuditEvents(store: Store, audit: AuditLog, seconds: number, label: string, actor: string): Promise<{ deleted: number }> {
  const { pruneAudit } = await import('./audit_retention.js');
  // Events recorded in this tick are still buffered; write them first so the cut is exact.
  audit.flush();
  const deleted = await pruneAudit(store, seconds);
  audit.record({ event: 'audit.pruned', outcome: 'success', detail: { actor, older_than: label, deleted } });
  return { deleted };
}
