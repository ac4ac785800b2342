import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { SessionAuthenticator } from '../admin/admin_deps.js';
import { AdminError, unauthorized } from '../admin/admin_error.js';
import type { AdminCaller } from '../admin/bearer_guard.js';
import type { AuditLog } from '../audit/audit_log.js';
import { hasAdmin, parseScopeString, type Scope } from '../policy/index.js';
import type { PatRegistry } from '../registry/personal_access_tokens.js';
import type { Store } from '../store/store.js';
import type { ConsoleSession, ConsoleSessions } from './console_sessions.js';

/** The session cookie. HttpOnly and SameSite=Strict always; Secure over HTTPS. */
export const COOKIE_NAME = 'lk_console';

/** The header the console page sends its CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';

/**
 * Authenticates admin API requests by the console's session cookie, as an
 * alternative to a Bearer token (same routes, same scope checks). Every
 * change (anything but GET/HEAD) must also carry the session's CSRF token
 * in `X-CSRF-Token` and, when the browser sends one, an `Origin` equal to
 * this server's: a cross-site page can neither read the token nor forge
 * the origin. Each request re-reads the user, so disabling a user or
 * taking away their admin scope ends their console session at once.
 */
export class ConsoleSessionAuth implements SessionAuthenticator {
  constructor(
    private readonly sessions: ConsoleSessions,
    private readonly store: Store,
    private readonly pats: Pick<PatRegistry, 'show'>,
    private readonly audit: AuditLog,
  ) {}

  authenticate(request: FastifyRequest, access: 'read' | 'write'): AdminCaller | null {
    const cookie = readCookie(request.headers.cookie, COOKIE_NAME);
    if (cookie === undefined) return null;
    const session = this.current(cookie, Date.now());
    if (!session) throw unauthorized('the console session has ended; log in again', true);
    if (access === 'write') this.checkChange(request, session);
    session.lastSeen = Date.now();
    const { identity } = session;
    const scopes: Scope[] = [{ kind: 'admin', access: identity.access, raw: `admin:${identity.access}` }];
    return { kind: identity.kind, name: identity.name, credentialId: identity.patId ?? 'console', scopes, actor: `console:${identity.name}` };
  }

  /**
   * The session a cookie names, its access cut to what its user holds now;
   * undefined when it is unknown, idle, or its user (or PAT) no longer may.
   * Does not count as activity (the live feed polls with it).
   */
  current(cookie: string, now: number): ConsoleSession | undefined {
    const session = this.sessions.get(cookie, now);
    if (!session) return undefined;
    const { identity } = session;
    if (identity.kind === 'operator') return session;
    const user = this.store.users.get(identity.name);
    const held = user && user.status === 'enabled' ? parseScopeString(user.scope) : [];
    let active = held.length > 0;
    if (active && identity.patId !== null) {
      try {
        active = this.pats.show(identity.patId).status === 'active';
      } catch {
        active = false;
      }
    }
    if (!active || !hasAdmin(held, 'read')) {
      this.sessions.endSession(session);
      return undefined;
    }
    if (identity.access === 'write' && !hasAdmin(held, 'write')) identity.access = 'read';
    return session;
  }

  #refuse(request: FastifyRequest, session: ConsoleSession, reason: string): AdminError {
    this.audit.record({
      event: 'admin.denied',
      principal: session.identity.name,
      outcome: 'denied',
      reason,
      remote: request.ip,
      detail: { method: request.method, route: request.routeOptions.url ?? null, via: 'console' },
    });
    return new AdminError(403, 'insufficient_scope', reason);
  }

  /** CSRF: the per-session token in a header, and a same-origin Origin when the browser names one. */
  checkChange(request: FastifyRequest, session: ConsoleSession): void {
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== ownOrigin(request)) throw this.#refuse(request, session, 'cross-origin request refused');
    const token = request.headers[CSRF_HEADER];
    if (typeof token !== 'string' || !sameSecret(token, session.csrf)) throw this.#refuse(request, session, 'missing or wrong CSRF token');
  }
}

/** `https://host:port` of this request as the browser addressed it. */
export function ownOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.headers.host ?? ''}`;
}

/** One cookie's value from a Cookie header (RFC 6265 §5.4), or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
