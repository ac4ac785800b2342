import type { AuditLog } from '../audit/audit_log.js';
import { LatchkeyError } from '../errors/latchkey_error.js';
import { parsePublicJwk } from '../keys/public_jwk.js';
import { generateSecret, hashSecret } from '../keys/secrets.js';
import { CLIENT_AUTH_METHODS, type ClientAuthMethod, type ClientRecord, type ClientStatus } from '../store/clients.js';
import type { Store } from '../store/store.js';
import { newIncarnation } from '../tokens/incarnation.js';
import { normaliseScopes, validateName } from './validate.js';

/** What an operator sees of a client: never a secret or its hash. */
export interface ClientView {
  client_id: string;
  scope: string;
  token_ttl: number;
  auth_method: ClientAuthMethod;
  status: ClientStatus;
  created_at: string;
  updated_at: string;
  /** End of each valid secret's life; null for the current one. */
  secrets: { expires_at: string | null }[];
  /** Whether a static MQTT password is set (the password itself is never shown). */
  static_password: boolean;
}

export interface NewClient {
  id: string;
  scope: string;
  /** Seconds; the server default when absent. */
  tokenTtl?: number;
  authMethod?: ClientAuthMethod;
  /** Public key for private_key_jwt: a JWK (JSON), a PEM public key or a PEM certificate. */
  publicJwk?: string | null;
  /**
   * No client secret: a stock device that never calls the token endpoint
   * (it gets a static MQTT password instead). `rotate-secret` can add one later.
   */
  noSecret?: boolean;
}

/** A validated new client with its secret made, not yet written. */
export interface PreparedClient {
  id: string;
  scope: string;
  tokenTtl: number;
  authMethod: ClientAuthMethod;
  publicJwk: string | null;
  /** Shown once; only its hash is stored. */
  secret: string | null;
}

/**
 * The answer of {@link ClientRegistry.setAuthMethod}: the new secret once
 * (moving onto a secret method), else null; and what became of the secrets.
 */
export interface AuthMethodChange {
  client_id: string;
  auth_method: ClientAuthMethod;
  client_secret: string | null;
  /** `issued`: a new secret (shown once); `deleted`: the old ones are gone; `kept`: basic/post switch; `none`: there were none. */
  secret: 'issued' | 'deleted' | 'kept' | 'none';
}

/** Does the method prove itself with a client secret? */
function usesSecret(method: ClientAuthMethod): boolean {
  return method === 'client_secret_basic' || method === 'client_secret_post';
}

/** Who made a change, for the audit trail: `cli`, `admin:<name>`, `oauth`. */
export type Actor = string;

/**
 * Provisioning of device clients, shared by the CLI and the admin API:
 * validation, the durable write with its change-feed entry, and the audit
 * event, in that order, for every operation.
 */
export class ClientRegistry {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly defaultTokenTtl: number,
  ) {}

  /**
   * Registers a client. Returns the secret once (null for methods without one).
   *
   * @throws LatchkeyError invalid_id, invalid_scope, invalid_argument, already_exists
   */
  create(input: NewClient, actor: Actor): { client_id: string; client_secret: string | null } {
    const [created] = this.commitMany([this.prepare(input)], actor);
    return created!;
  }

  /**
   * Validates a new client and makes its secret, writing nothing: the first
   * half of {@link create}, for imports that check every row first.
   *
   * @throws LatchkeyError invalid_id, invalid_scope, invalid_argument, invalid_duration
   */
  prepare(input: NewClient): PreparedClient {
    const id = validateName(input.id);
    const { scope } = normaliseScopes(input.scope);
    const authMethod = input.authMethod ?? 'client_secret_basic';
    if (!CLIENT_AUTH_METHODS.includes(authMethod)) {
      throw new LatchkeyError('invalid_argument', `unknown auth method "${authMethod}": use ${CLIENT_AUTH_METHODS.join(', ')}`);
    }
    if (authMethod === 'private_key_jwt' && !input.publicJwk) {
      throw new LatchkeyError('invalid_argument', 'private_key_jwt needs a public key (--jwk)');
    }
    if (authMethod !== 'private_key_jwt' && input.publicJwk) {
      throw new LatchkeyError('invalid_argument', `a public key (--jwk) is only for private_key_jwt clients, not ${authMethod}`);
    }
    // Stored as the validated public members only: a private key is refused, never kept.
    const publicJwk = input.publicJwk ? JSON.stringify(parsePublicJwk(input.publicJwk)) : null;
    const tokenTtl = input.tokenTtl ?? this.defaultTokenTtl;
    if (!Number.isSafeInteger(tokenTtl) || tokenTtl <= 0) throw new LatchkeyError('invalid_duration', 'token ttl must be positive');
    const secret = usesSecret(authMethod) && input.noSecret !== true ? generateSecret() : null;
    return { id, scope, tokenTtl, authMethod, publicJwk, secret };
  }

  /**
   * Registers prepared clients in one durable transaction: all of them or,
   * if any id is taken (or `alsoInTransaction` throws), none. Returns each
   * secret once.
   *
   * @throws LatchkeyError already_exists
   */
  commitMany(
    prepared: readonly PreparedClient[],
    actor: Actor,
    alsoInTransaction: () => void = () => {},
  ): { client_id: string; client_secret: string | null }[] {
    this.store.durably(() => {
      this.insertPrepared(prepared);
      alsoInTransaction();
    });
    for (const p of prepared) {
      this.audit.record({ event: 'client.created', principal: p.id, outcome: 'success', detail: { actor, scope: p.scope, auth_method: p.authMethod } });
    }
    return prepared.map((p) => ({ client_id: p.id, client_secret: p.secret }));
  }

  /**
   * Writes prepared clients inside the caller's durable transaction: the one
   * way a client row is born (a fresh incarnation, the secret's hash, the
   * change-feed entry), for {@link commitMany} and for provisioning, whose
   * transaction also spends a claim. Records no audit event: the caller
   * records its own once the transaction has committed.
   *
   * @example store.durably(() => registry.insertPrepared([registry.prepare({ id: 'th-42', scope })]))
   * @throws LatchkeyError already_exists
   */
  insertPrepared(prepared: readonly PreparedClient[]): void {
    const now = Date.now();
    for (const p of prepared) {
      if (this.store.nameTaken(p.id)) throw new LatchkeyError('already_exists', `"${p.id}" already exists`);
      this.store.clients.insert({
        id: p.id,
        scope: p.scope,
        tokenTtl: p.tokenTtl,
        authMethod: p.authMethod,
        publicJwk: p.publicJwk,
        status: 'enabled',
        // Its tokens carry this; a token of an earlier client of this id never fits it.
        incarnation: newIncarnation(),
        createdAt: now,
        updatedAt: now,
      });
      if (p.secret) this.store.clients.replaceSecret(p.id, hashSecret(p.secret), now, now);
      this.store.changes.append('client', p.id);
    }
  }

  list(): ClientView[] {
    const now = Date.now();
    return this.store.clients.list().map((c) => this.#view(c, now));
  }

  /** @throws LatchkeyError not_found */
  show(id: string): ClientView {
    return this.#view(this.#require(id), Date.now());
  }

  /** Replaces the allowed scopes; live sessions lose what is no longer allowed. */
  setScope(id: string, scopeText: string, actor: Actor): ClientView {
    this.#require(id);
    const { scope } = normaliseScopes(scopeText);
    this.store.durably(() => {
      this.store.clients.setScope(id, scope);
      this.store.changes.append('client', id);
    });
    this.audit.record({ event: 'client.scope_changed', principal: id, outcome: 'success', detail: { actor, scope } });
    return this.show(id);
  }

  /**
   * Issues a new secret; the ones valid now keep working for `graceSeconds`
   * (0 ends them at once), so devices in the field can be moved over.
   * When the grace ends, every access token of the client issued before
   * that moment is void too (live sessions on one end, it no longer
   * connects, renews or introspects as active): a token does not record
   * which secret obtained it, and renewal over MQTT would otherwise let a
   * leaked secret's token live on forever (tokens/credential_floor.ts).
   */
  rotateSecret(id: string, graceSeconds: number, actor: Actor): { client_id: string; client_secret: string } {
    const client = this.#require(id);
    if (client.authMethod !== 'client_secret_basic' && client.authMethod !== 'client_secret_post') {
      throw new LatchkeyError('invalid_argument', `client "${id}" authenticates with ${client.authMethod}, not a secret`);
    }
    const secret = generateSecret();
    const now = Date.now();
    this.store.durably(() => {
      this.store.clients.replaceSecret(id, hashSecret(secret), now + graceSeconds * 1000, now);
      this.store.changes.append('secret', id);
    });
    this.audit.record({
      event: 'client.secret_rotated',
      principal: id,
      outcome: 'success',
      detail: { actor, grace_seconds: graceSeconds, tokens_before: new Date(now + graceSeconds * 1000).toISOString() },
    });
    return { client_id: id, client_secret: secret };
  }

  /**
   * Moves a client to another authentication method, so a device that
   * received a certificate (or a key pair) keeps its id, scopes and
   * history. Between `client_secret_basic` and `client_secret_post` only
   * the label changes: both are accepted for either, secret kept.
   *
   * Leaving the secret methods DELETES the secrets, grace ones included: a
   * secret no method accepts is a dormant credential that a later move back
   * (a slip, or an attacker with admin access) would silently revive, and a
   * device usually moves because its secret was weak or exposed. Moving back
   * to a secret method issues a fresh secret, shown once. Leaving
   * `private_key_jwt` forgets the public key. Every access token issued
   * before a move (other than basic <-> post) is void: live sessions on one
   * end, and it no longer connects, renews or introspects as active.
   *
   * @example registry.setAuthMethod('t1', 'tls_client_auth', {}, 'cli') // { client_id: 't1', auth_method: 'tls_client_auth', client_secret: null, secret: 'deleted' }
   * @throws LatchkeyError not_found, invalid_argument
   */
  setAuthMethod(id: string, authMethod: string, options: { publicJwk?: string | null }, actor: Actor): AuthMethodChange {
    const client = this.#require(id);
    if (!(CLIENT_AUTH_METHODS as readonly string[]).includes(authMethod)) {
      throw new LatchkeyError('invalid_argument', `unknown auth method "${authMethod}": use ${CLIENT_AUTH_METHODS.join(', ')}`);
    }
    const method = authMethod as ClientAuthMethod;
    if (method === 'private_key_jwt' && !options.publicJwk) {
      throw new LatchkeyError('invalid_argument', 'private_key_jwt needs a public key (--jwk)');
    }
    if (method !== 'private_key_jwt' && options.publicJwk) {
      throw new LatchkeyError('invalid_argument', `a public key (--jwk) is only for private_key_jwt clients, not ${method}`);
    }
    const publicJwk = options.publicJwk ? JSON.stringify(parsePublicJwk(options.publicJwk)) : null;
    const wasSecret = usesSecret(client.authMethod);
    const isSecret = usesSecret(method);
    const secret = isSecret && !wasSecret ? generateSecret() : null;
    const now = Date.now();
    // Anything but basic <-> post (one secret, two transports) or a repeat of the same method
    // changes the credential (a new private_key_jwt key does): what the old one obtained is void
    // from now on, live sessions included (they could otherwise renew forever over MQTT).
    const sameCredential = (wasSecret && isSecret) || (method === client.authMethod && method !== 'private_key_jwt');
    const credentialChanged = !sameCredential;
    let secretsDeleted = 0;
    this.store.durably(() => {
      this.store.clients.setAuthMethod(id, method, publicJwk, credentialChanged ? now : null);
      if (wasSecret && !isSecret) secretsDeleted = this.store.clients.deleteSecrets(id);
      if (secret) this.store.clients.replaceSecret(id, hashSecret(secret), now, now);
      this.store.changes.append('client', id);
      if (secret || secretsDeleted > 0) this.store.changes.append('secret', id);
    });
    const secretFate = secret ? 'issued' : secretsDeleted > 0 || (wasSecret && !isSecret) ? 'deleted' : wasSecret ? 'kept' : 'none';
    this.audit.record({
      event: 'client.auth_method_changed',
      principal: id,
      outcome: 'success',
      detail: {
        actor,
        from: client.authMethod,
        to: method,
        secret: secretFate,
        ...(publicJwk ? { public_key: 'replaced' } : {}),
        ...(credentialChanged ? { tokens_before: new Date(now).toISOString() } : {}),
      },
    });
    return { client_id: id, auth_method: method, client_secret: secret, secret: secretFate };
  }

  setStatus(id: string, status: ClientStatus, actor: Actor): ClientView {
    this.#require(id);
    this.store.durably(() => {
      this.store.clients.setStatus(id, status);
      this.store.changes.append('client', id);
    });
    this.audit.record({ event: status === 'enabled' ? 'client.enabled' : 'client.disabled', principal: id, outcome: 'success', detail: { actor } });
    return this.show(id);
  }

  /**
   * Disables a hub and every device it vouched for (`client disable <hub>
   * --cascade`), in one transaction: their sessions end within a second.
   * Returns the devices disabled with it.
   */
  disableCascade(id: string, actor: Actor): { hub: ClientView; disabled: string[] } {
    this.#require(id);
    const vouched = this.store.provisionedClients.byHub(id).map((p) => p.clientId);
    this.store.durably(() => {
      for (const name of [id, ...vouched]) {
        this.store.clients.setStatus(name, 'disabled');
        this.store.changes.append('client', name);
      }
    });
    this.audit.record({ event: 'client.disabled', principal: id, outcome: 'success', detail: { actor, cascade: vouched } });
    for (const name of vouched) this.audit.record({ event: 'client.disabled', principal: name, outcome: 'success', reason: `cascade from hub ${id}`, detail: { actor } });
    return { hub: this.show(id), disabled: vouched };
  }

  /**
   * Deletes the client and everything it was issued, for good: its secrets
   * (cascade), its certificates (revoked, so they stay refused and appear in
   * the CRL), and its tokens (they carry the deleted client's incarnation,
   * which no later client of the same id has). Live sessions end.
   *
   * @returns the serials of the certificates revoked with it
   */
  delete(id: string, actor: Actor): { revokedCertificates: string[] } {
    this.#require(id);
    const now = Date.now();
    const revokedCertificates = this.store.durably(() => {
      const serials = this.store.certificates.revokeAllOf(id, now);
      for (const serial of serials) this.store.changes.append('certificate_revoked', serial);
      this.store.clients.delete(id);
      // Its persistent MQTT session (subscriptions, queue, will) is not for a later client of this id.
      this.store.forgetPersistedSessions(id);
      this.store.changes.append('client', id);
      this.store.changes.append('principal_deleted', id);
      return serials;
    });
    for (const serial of revokedCertificates) {
      this.audit.record({ event: 'certificate.revoked', principal: id, outcome: 'success', reason: 'client deleted', detail: { actor, serial } });
    }
    this.audit.record({ event: 'client.deleted', principal: id, outcome: 'success', detail: { actor, certificates_revoked: revokedCertificates.length } });
    return { revokedCertificates };
  }

  #require(id: string): ClientRecord {
    const client = this.store.clients.get(id);
    if (!client) throw new LatchkeyError('not_found', `no client "${id}"`);
    return client;
  }

  #view(c: ClientRecord, now: number): ClientView {
    return {
      client_id: c.id,
      scope: c.scope,
      token_ttl: c.tokenTtl,
      auth_method: c.authMethod,
      status: c.status,
      created_at: new Date(c.createdAt).toISOString(),
      updated_at: new Date(c.updatedAt).toISOString(),
      secrets: this.store.clients
        .validSecrets(c.id, now)
        .map((s) => ({ expires_at: s.notAfter === null ? null : new Date(s.notAfter).toISOString() })),
      static_password: this.store.staticPasswords.valid(c.id, now).length > 0,
    };
  }
}
