import type { AuditLog } from '../audit/audit_log.js';
import { keyPassphrase } from '../keys/key_sealing.js';
import type { Store } from '../store/store.js';
import type { Actor } from './clients.js';

/** What a key rotation reports: the new key, and until when the retired one stays in JWKS. */
export interface KeyRotation {
  kid: string;
  retired_kid: string | null;
  retired_published_until: string | null;
}

/**
 * Makes a new signing key current, shared by `latchkey keys rotate` and the
 * admin API. The old public key stays published until every token it could
 * have signed has expired; a running server picks the change up from the feed.
 *
 * @example const { kid } = await rotateKeys(store, audit, 'cli');
 */
export async function rotateKeys(store: Store, audit: AuditLog, actor: Actor, passphrase: string | null = keyPassphrase()): Promise<KeyRotation> {
  const retired = store.signingKeys.published(Date.now()).find((k) => k.retiredAt === null)?.kid ?? null;
  // jose loads only for the command that needs it.
  const { rotateSigningKey } = await import('../keys/key_ring.js');
  // Sealed like the others when LATCHKEY_KEY_PASSPHRASE is set; refused if it does not open them.
  const { kid, retiredPublishedUntil } = await rotateSigningKey(store, store.longestTokenTtl(), passphrase);
  audit.record({ event: 'keys.rotated', outcome: 'success', detail: { actor, kid, retired_kid: retired } });
  return { kid, retired_kid: retired, retired_published_until: retired === null ? null : new Date(retiredPublishedUntil).toISOString() };
}
