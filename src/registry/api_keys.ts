import type { AuditLog } from '../audit/audit_log.js';
import { LatchkeyError } from '../errors/latchkey_error.js';
import { checkPrefixedToken, generatePrefixedToken, randomBase62, TOKEN_PREFIX } from '../keys/prefixed_token.js';
import { hashSecret, secretMatches } from '../keys/secrets.js';
import type { ApiKeyRecord, ApiKeySecretRecord, ApiKeyStatus } from '../store/api_keys.js';
import type { Store } from '../store/store.js';
import type { Actor } from './clients.js';
import { CredentialRefusal } from './credential_refusal.js';
import { LastUseRecorder } from './last_use.js';
import { requireScopes } from './users.js';
import { validateName } from './validate.js';

/** How long a rolled key keeps working unless told otherwise (Stripe offers up to 7 days). */
export const DEFAULT_ROLL_GRACE_SECONDS = 7 * 86_400;

/** One secret of a key as a list shows it: prefix and last four characters only. */
export interface ApiKeySecretView {
  id: string;
  prefix: string;
  last4: string;
  created_at: string;
  /** null for the current secret; the end of the grace for a rolled one. */
  expires_at: string | null;
  last_used_at: string | null;
  last_used_addr: string | null;
}

export interface ApiKeyView {
  /** The key's name: unique across clients, users and API keys, hence its id. */
  id: string;
  scope: string;
  status: ApiKeyStatus;
  /** `lk_key_`, and the last four characters of the current key: all a list ever shows of it. */
  prefix: string;
  last4: string | null;
  created_at: string;
  updated_at: string;
  /** The valid secrets, newest first: the current one, then any still in their grace. */
  secrets: ApiKeySecretView[];
  last_used_at: string | null;
  last_used_addr: string | null;
}

/** A key that checked out, and which of its secrets it was. */
export interface VerifiedApiKey {
  key: ApiKeyRecord;
  secret: ApiKeySecretRecord;
}

/**
 * API keys for integrations, in the manner of Stripe's: long-lived, fixed
 * scopes, shown once, listed by prefix and last four, rolled with a grace
 * period during which the old key keeps working.
 */
export class ApiKeyRegistry {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly lastUse = new LastUseRecorder(),
  ) {}

  /**
   * @example apiKeys.create({ name: 'dashboard', scope: 'admin:read' }, 'cli') // { id: 'dashboard', key: 'lk_key_…' }
   * @throws LatchkeyError invalid_id, invalid_scope, already_exists
   */
  create(input: { name: string; scope: string }, actor: Actor): { id: string; key: string } {
    const name = validateName(input.name, 'API key name');
    const { scope } = requireScopes(input.scope);
    const key = generatePrefixedToken('key');
    const secretId = newSecretId();
    const now = Date.now();
    this.store.durably(() => {
      if (this.store.nameTaken(name)) throw new LatchkeyError('already_exists', `"${name}" already exists (names are shared by clients, users and API keys)`);
      this.store.apiKeys.insert({ name, scope, status: 'enabled', createdAt: now, updatedAt: now });
      this.store.apiKeys.replaceSecret({ id: secretId, keyName: name, hash: hashSecret(key), last4: key.slice(-4), createdAt: now }, now, now);
      this.store.changes.append('principal', name);
    });
    this.audit.record({ event: 'apikey.created', principal: name, outcome: 'success', detail: { actor, scope, secret_id: secretId } });
    return { id: name, key };
  }

  list(): ApiKeyView[] {
    const now = Date.now();
    return this.store.apiKeys.list().map((k) => this.#view(k, now));
  }

  /** @throws LatchkeyError not_found */
  show(name: string): ApiKeyView {
    return this.#view(this.#require(name), Date.now());
  }

  /**
   * Issues a new key. The old one keeps working for `graceSeconds` (0 ends
   * it now), then stops, and live MQTT sessions using it end with it.
   *
   * @example apiKeys.roll('dashboard', 2, 'cli') // { id, key, previous_expires_at }
   */
  roll(name: string, graceSeconds: number, actor: Actor): { id: string; key: string; previous_expires_at: string } {
    this.#require(name);
    if (!Number.isSafeInteger(graceSeconds) || graceSeconds < 0) throw new LatchkeyError('invalid_duration', 'the grace must be 0s or longer');
    const key = generatePrefixedToken('key');
    const secretId = newSecretId();
    const now = Date.now();
    // Whole seconds, so HTTP checks and the broker's expiry wheel agree on the instant.
    const graceEndsAt = graceSeconds === 0 ? now : Math.ceil((now + graceSeconds * 1000) / 1000) * 1000;
    this.store.durably(() => {
      this.store.apiKeys.replaceSecret({ id: secretId, keyName: name, hash: hashSecret(key), last4: key.slice(-4), createdAt: now }, graceEndsAt, now);
      this.store.changes.append('principal', name);
    });
    const previous_expires_at = new Date(graceEndsAt).toISOString();
    this.audit.record({
      event: 'apikey.rolled',
      principal: name,
      outcome: 'success',
      detail: { actor, secret_id: secretId, grace_seconds: graceSeconds, previous_expires_at },
    });
    return { id: name, key, previous_expires_at };
  }

  /**
   * Disabling refuses every secret of the key at once over HTTP and ends
   * live MQTT sessions on it within a second; enabling lets it in again.
   *
   * @example apiKeys.setStatus('dashboard', 'disabled', 'cli') // the key's view, status 'disabled'
   * @throws LatchkeyError not_found
   */
  setStatus(name: string, status: ApiKeyStatus, actor: Actor): ApiKeyView {
    this.#require(name);
    this.store.durably(() => {
      this.store.apiKeys.setStatus(name, status, Date.now());
      this.store.changes.append('principal', name);
    });
    this.audit.record({ event: status === 'enabled' ? 'apikey.enabled' : 'apikey.disabled', principal: name, outcome: 'success', detail: { actor } });
    return this.show(name);
  }

  /** Deletes the key and all its secrets; live sessions using it end. */
  delete(name: string, actor: Actor): void {
    this.#require(name);
    this.store.durably(() => {
      this.store.apiKeys.delete(name);
      this.store.forgetPersistedSessions(name);
      this.store.changes.append('principal', name);
      this.store.changes.append('principal_deleted', name);
    });
    this.audit.record({ event: 'apikey.deleted', principal: name, outcome: 'success', detail: { actor } });
  }

  /**
   * Checks a presented key: format and checksum first (a typo is refused
   * with no lookup), then the hash, the grace of a rolled key and the key's
   * state. Records the last use, at most once a minute per secret.
   *
   * @throws CredentialRefusal
   */
  verify(token: string, remote: string | null): VerifiedApiKey {
    const format = checkPrefixedToken(token);
    if (!format.ok || format.kind !== 'key') {
      throw new CredentialRefusal('malformed', `malformed API key: ${format.ok ? 'prefix' : format.problem}`);
    }
    // Looked up by SHA-256 of the key, which an attacker cannot steer; the constant-time compare decides.
    const secret = this.store.apiKeys.secretByHash(hashSecret(token));
    if (!secret || !secretMatches(token, [secret.hash])) throw new CredentialRefusal('unknown', 'unknown API key');
    const now = Date.now();
    if (secret.notAfter !== null && secret.notAfter <= now) {
      throw new CredentialRefusal('expired', `API key rolled, grace over: ${secret.keyName} (${secret.id})`, secret.keyName);
    }
    const key = this.store.apiKeys.get(secret.keyName);
    if (!key) throw new CredentialRefusal('unknown', 'unknown API key');
    if (key.status !== 'enabled') throw new CredentialRefusal('disabled', `API key disabled: ${key.name}`, key.name);
    if (this.lastUse.due(secret.id, now)) this.store.apiKeys.touch(secret.id, now, remote);
    return { key, secret };
  }

  /**
   * For the broker after a change: when this secret stops (seconds; Infinity
   * for the current one, the grace end for a rolled one), or null once gone.
   */
  currentExpiry(secretId: string): number | null {
    const secret = this.store.apiKeys.secretById(secretId);
    if (!secret) return null;
    return secret.notAfter === null ? Infinity : secret.notAfter / 1000;
  }

  #require(name: string): ApiKeyRecord {
    const key = this.store.apiKeys.get(name);
    if (!key) throw new LatchkeyError('not_found', `no API key "${name}"`);
    return key;
  }

  #view(k: ApiKeyRecord, now: number): ApiKeyView {
    const secrets = this.store.apiKeys.validSecrets(k.name, now).map(secretView);
    const lastUsed = secrets.filter((s) => s.last_used_at !== null).sort((a, b) => b.last_used_at!.localeCompare(a.last_used_at!))[0];
    return {
      id: k.name,
      scope: k.scope,
      status: k.status,
      prefix: TOKEN_PREFIX.key,
      last4: secrets.find((s) => s.expires_at === null)?.last4 ?? null,
      created_at: new Date(k.createdAt).toISOString(),
      updated_at: new Date(k.updatedAt).toISOString(),
      secrets,
      last_used_at: lastUsed?.last_used_at ?? null,
      last_used_addr: lastUsed?.last_used_addr ?? null,
    };
  }
}

function newSecretId(): string {
  return `key_${randomBase62(12)}`;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function secretView(s: ApiKeySecretRecord): ApiKeySecretView {
  return {
    id: s.id,
    prefix: TOKEN_PREFIX.key,
    last4: s.last4,
    created_at: new Date(s.createdAt).toISOString(),
    expires_at: iso(s.notAfter),
    last_used_at: iso(s.lastUsedAt),
    last_used_addr: s.lastUsedAddr,
  };
}
