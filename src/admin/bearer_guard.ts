import type { FastifyRequest } from 'fastify';
import type { AuditLog } from '../audit/audit_log.js';
import { prefixedTokenKind } from '../keys/prefixed_token.js';
import { hasAdmin, parseScopeString, type Scope, scopeCovers } from '../policy/index.js';
import type { ApiKeyRegistry } from '../registry/api_keys.js';
import { CredentialRefusal } from '../registry/credential_refusal.js';
import type { PatRegistry } from '../registry/personal_access_tokens.js';
import { insufficientScope, unauthorized } from './admin_error.js';

/** Who is calling the admin API, and what they may do there. */
export interface AdminCaller {
  /** `operator`: a console session opened by a `latchkey console` link without --user. */
  kind: 'user' | 'apikey' | 'operator';
  /** The user or API key name. */
  name: string;
  /** The PAT id or API key secret id. */
  credentialId: string;
  scopes: readonly Scope[];
  /** How the audit trail names changes this caller makes. */
  actor: string;
}

export type AdminAccess = 'read' | 'write';

/** RFC 6750 §2.1: `Bearer` (case-insensitive) then the token (b64token). */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * Authenticates an admin request by its `Authorization: Bearer` PAT or API
 * key, and checks it may do `access` (admin:write implies admin:read).
 * Missing, malformed, unknown, expired, revoked or disabled: 401; without
 * the scope: 403. Every refusal is audited with its reason; the token never is.
 *
 * @example const caller = guard.check(request, 'write');
 */
export class BearerGuard {
  constructor(
    private readonly pats: Pick<PatRegistry, 'verify'>,
    private readonly apiKeys: Pick<ApiKeyRegistry, 'verify'>,
    private readonly audit: AuditLog,
  ) {}

  check(request: FastifyRequest, access: AdminAccess): AdminCaller {
    return this.authorize(request, this.authenticate(request), access);
  }

  /** 403 (audited) unless `caller`, however authenticated, holds `admin:<access>`. */
  authorize(request: FastifyRequest, caller: AdminCaller, access: AdminAccess): AdminCaller {
    if (!hasAdmin(caller.scopes, access)) {
      this.audit.record({
        event: 'admin.denied',
        principal: caller.name,
        outcome: 'denied',
        reason: `missing admin:${access}`,
        remote: request.ip,
        detail: { method: request.method, route: request.routeOptions.url ?? null, credential: caller.credentialId },
      });
      throw insufficientScope(`admin:${access}`);
    }
    return caller;
  }

  authenticate(request: FastifyRequest): AdminCaller {
    const header = request.headers.authorization;
    if (header === undefined || header === '') throw this.#refuse(request, null, 'no bearer token', false);
    const match = BEARER.exec(header);
    if (!match) throw this.#refuse(request, null, 'the Authorization header is not a Bearer token', true);
    return this.byToken(request, match[1]!);
  }

  /**
   * The caller a PAT or API key names (the console's login form hands one
   * over in a body rather than a header). Refusals are audited as above.
   */
  byToken(request: FastifyRequest, token: string): AdminCaller {
    try {
      switch (prefixedTokenKind(token)) {
        case 'pat': {
          const { pat, user } = this.pats.verify(token, request.ip);
          return { kind: 'user', name: user.name, credentialId: pat.id, scopes: patScopes(pat.scope, user.scope, user.name), actor: `admin:${user.name}` };
        }
        case 'key': {
          const { key, secret } = this.apiKeys.verify(token, request.ip);
          return { kind: 'apikey', name: key.name, credentialId: secret.id, scopes: parseScopeString(key.scope), actor: `admin:${key.name}` };
        }
        default:
          throw new CredentialRefusal('malformed', 'not a personal access token or API key');
      }
    } catch (err) {
      if (err instanceof CredentialRefusal) throw this.#refuse(request, err.principal, err.message, true, err.code);
      throw err;
    }
  }

  #refuse(request: FastifyRequest, principal: string | null, reason: string, presented: boolean, code?: string) {
    this.audit.record({
      event: 'admin.auth_refused',
      principal,
      outcome: 'failure',
      reason,
      remote: request.ip,
      detail: { method: request.method, route: request.routeOptions.url ?? null, ...(code ? { code } : {}) },
    });
    // The description names the kind of failure only; the audit trail has the detail.
    return unauthorized(presented ? publicDescription(code) : 'a bearer token is required', presented);
  }
}

/**
 * What a PAT may do now: its scopes, cut to what its user still holds. A
 * token with admin:write whose user was narrowed to admin:read keeps
 * admin:read (write implies read on both sides).
 */
function patScopes(tokenScope: string, userScope: string, user: string): Scope[] {
  const held = parseScopeString(userScope);
  const carried = parseScopeString(tokenScope);
  const scopes = carried.filter((s) => held.some((h) => scopeCovers(h, s, user)));
  if (!hasAdmin(scopes, 'read') && hasAdmin(carried, 'read') && hasAdmin(held, 'read')) {
    scopes.push({ kind: 'admin', access: 'read', raw: 'admin:read' });
  }
  return scopes;
}

function publicDescription(code: string | undefined): string {
  switch (code) {
    case 'expired':
      return 'the token has expired';
    case 'revoked':
      return 'the token has been revoked';
    case 'disabled':
      return 'the token\'s owner is disabled';
    default:
      return 'the token is not valid';
  }
}
