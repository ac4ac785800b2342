import type { AuditLog } from '../audit/audit_log.js';
import { LatchkeyError } from '../errors/latchkey_error.js';
import { checkPrefixedToken, generatePrefixedToken, randomBase62, TOKEN_PREFIX } from '../keys/prefixed_token.js';
import { hashSecret, secretMatches } from '../keys/secrets.js';
import type { ClientRecord } from '../store/clients.js';
import type { StaticPasswordRecord } from '../store/static_passwords.js';
import type { Store } from '../store/store.js';
import type { Actor } from './clients.js';
import { CredentialRefusal } from './credential_refusal.js';
import { LastUseRecorder } from './last_use.js';

/** What `client show` says of a client's static passwords: never the password. */
export interface StaticPasswordView {
  id: string;
  /** `lk_mqp_…` and the last four characters: enough to tell two apart. */
  hint: string;
  created_at: string;
  /** null for the current one; the end of the grace for a rotated one. */
  expires_at: string | null;
  last_used_at: string | null;
  last_used_addr: string | null;
}

/** A password that checked out, and its client. */
export interface VerifiedStaticPassword {
  client: ClientRecord;
  password: StaticPasswordRecord;
}

/**
 * Static MQTT passwords for stock devices (Tasmota, Shelly, Zigbee2MQTT,
 * Home Assistant) that take a fixed username and password and cannot fetch
 * tokens. The weaker credential: it never expires by itself and travels on
 * every CONNECT, so it is random (190 bits), recognisable by its prefix
 * (`lk_mqp_`, never taken for a JWT), stored as SHA-256 only, rotatable with
 * a grace, revocable with live sessions ending within a second, and every
 * use is audited.
 */
export class StaticPasswordRegistry {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly lastUse = new LastUseRecorder(),
  ) {}

  /**
   * Gives the client a new static password, shown once. Any password valid
   * now keeps working for `graceSeconds` (0 ends it at once).
   *
   * @example passwords.set('plug-1', 86_400, 'cli') // { client_id: 'plug-1', mqtt_password: 'lk_mqp_…', previous_expires_at: null }
   * @throws LatchkeyError not_found, invalid_duration
   */
  set(clientId: string, graceSeconds: number, actor: Actor): { client_id: string; mqtt_password: string; previous_expires_at: string | null } {
    if (!Number.isSafeInteger(graceSeconds) || graceSeconds < 0) throw new LatchkeyError('invalid_duration', 'the grace must be 0s or longer');
    const password = generatePrefixedToken('mqp');
    const id = `mqp_${randomBase62(12)}`;
    const now = Date.now();
    // Whole seconds, so the broker's expiry wheel and a fresh CONNECT agree on the instant.
    const graceEndsAt = graceSeconds === 0 ? now : Math.ceil((now + graceSeconds * 1000) / 1000) * 1000;
    const hadOne = this.store.durably(() => {
      if (!this.store.clients.get(clientId)) throw new LatchkeyError('not_found', `no client "${clientId}"`);
      const previous = this.store.staticPasswords.valid(clientId, now).length > 0;
      this.store.staticPasswords.replace({ id, clientId, hash: hashSecret(password), last4: password.slice(-4), createdAt: now }, graceEndsAt, now);
      this.store.changes.append('static_password', clientId);
      return previous;
    });
    const previous_expires_at = hadOne ? new Date(graceEndsAt).toISOString() : null;
    this.audit.record({
      event: hadOne ? 'client.static_password_rotated' : 'client.static_password_set',
      principal: clientId,
      outcome: 'success',
      detail: { actor, password_id: id, ...(hadOne ? { grace_seconds: graceSeconds, previous_expires_at } : {}) },
    });
    return { client_id: clientId, mqtt_password: password, previous_expires_at };
  }

  /**
   * Revokes every static password of the client; live sessions using one
   * end within a second, and the password is refused as revoked (CONNACK 5).
   *
   * @throws LatchkeyError not_found
   */
  revoke(clientId: string, actor: Actor): { client_id: string; revoked: number } {
    const revoked = this.store.durably(() => {
      if (!this.store.clients.get(clientId)) throw new LatchkeyError('not_found', `no client "${clientId}"`);
      const count = this.store.staticPasswords.revokeAll(clientId, Date.now());
      if (count > 0) this.store.changes.append('static_password', clientId);
      return count;
    });
    this.audit.record({
      event: 'client.static_password_revoked',
      principal: clientId,
      outcome: 'success',
      reason: revoked === 0 ? 'no static password' : null,
      detail: { actor, revoked },
    });
    return { client_id: clientId, revoked };
  }

  /** The client's valid static passwords, current first (ids and hints only). */
  list(clientId: string): StaticPasswordView[] {
    return this.store.staticPasswords.valid(clientId, Date.now()).map(view);
  }

  /**
   * Checks a presented password: format and checksum first (no lookup for
   * a typo), then by hash with a constant-time compare, then the grace of
   * a rotated one. Records the last use at most once a minute.
   *
   * @throws CredentialRefusal malformed, unknown, revoked, expired
   */
  verify(password: string, remote: string | null): VerifiedStaticPassword {
    const format = checkPrefixedToken(password);
    if (!format.ok || format.kind !== 'mqp') {
      throw new CredentialRefusal('malformed', `malformed static password: ${format.ok ? 'prefix' : format.problem}`);
    }
    // Looked up by SHA-256 of the password, which an attacker cannot steer; the constant-time compare decides.
    const record = this.store.staticPasswords.byHash(hashSecret(password));
    if (!record || !secretMatches(password, [record.hash])) throw new CredentialRefusal('unknown', 'unknown static password');
    if (record.revokedAt !== null) throw new CredentialRefusal('revoked', `static password revoked: ${record.clientId} (${record.id})`, record.clientId);
    const now = Date.now();
    if (record.notAfter !== null && record.notAfter <= now) {
      throw new CredentialRefusal('expired', `static password rotated, grace over: ${record.clientId} (${record.id})`, record.clientId);
    }
    const client = this.store.clients.get(record.clientId);
    if (!client) throw new CredentialRefusal('unknown', 'unknown static password');
    if (this.lastUse.due(record.id, now)) this.store.staticPasswords.touch(record.id, now, remote);
    return { client, password: record };
  }

  /** For the broker after a change: when this password stops (seconds; Infinity for the current one), or null once revoked. */
  currentExpiry(passwordId: string): number | null {
    const record = this.store.staticPasswords.byId(passwordId);
    if (!record || record.revokedAt !== null) return null;
    return record.notAfter === null ? Infinity : record.notAfter / 1000;
  }
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function view(r: StaticPasswordRecord): StaticPasswordView {
  return {
    id: r.id,
    hint: `${TOKEN_PREFIX.mqp}…${r.last4}`,
    created_at: new Date(r.createdAt).toISOString(),
    expires_at: iso(r.notAfter),
    last_used_at: iso(r.lastUsedAt),
    last_used_addr: r.lastUsedAddr,
  };
}
