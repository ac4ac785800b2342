import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AdminError } from '../admin/admin_error.js';
import type { BearerGuard } from '../admin/bearer_guard.js';
import { sendAdminError, toAdminError } from '../admin/error_handling.js';
import type { AuditLog } from '../audit/audit_log.js';
import { hasAdmin } from '../policy/index.js';
import type { Store } from '../store/store.js';
import type { AssetCache } from './assets.js';
import { type ConsoleIdentity, type ConsoleSessions, IDLE_TIMEOUT_MS } from './console_sessions.js';
import type { LiveFeed } from './live_feed.js';
import { redeemLoginLink } from './login_links.js';
import { COOKIE_NAME, type ConsoleSessionAuth, ownOrigin, readCookie } from './session_auth.js';

export interface ConsoleDeps {
  store: Store;
  audit: AuditLog;
  sessions: ConsoleSessions;
  auth: ConsoleSessionAuth;
  guard: BearerGuard;
  assets: AssetCache;
  feed: LiveFeed;
  /** The MQTT over WebSocket ports, for the dashboard page's Content-Security-Policy. */
  wsPorts: () => { ws: number; wss: number };
}

/**
 * Headers of every console response. The CSP allows only our own scripts
 * and styles (no inline script, no eval), connections to this origin and
 * to our own WebSocket ports (the dashboard's MQTT), and no framing.
 */
export function securityHeaders(request: FastifyRequest, wsPorts: { ws: number; wss: number }): Record<string, string> {
  // The host the browser used, without its port; anything odd falls back to 'self' only.
  const host = (request.headers.host ?? '').replace(/:\d+$/, '');
  const mqtt = /^[A-Za-z0-9.-]{1,253}$|^\[[0-9A-Fa-f:.]{2,45}\]$/.test(host) ? ` ws://${host}:${wsPorts.ws} wss://${host}:${wsPorts.wss}` : '';
  return {
    'content-security-policy':
      `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'${mqtt}; ` +
      "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  };
}

/**
 * The operator console under `/console`: its fixed set of files, login
 * (a one-time link from `latchkey console`, or a pasted PAT with an admin
 * scope), logout, who am I, and the live feed. Everything else the page
 * does goes through the admin API (`/admin/…`) with the session cookie.
 */
export function registerConsoleRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  const headersFor = (request: FastifyRequest) => securityHeaders(request, deps.wsPorts());

  for (const url of deps.assets.urls()) {
    app.get(url, { schema: { hide: true } }, async (request, reply) => {
      const asset = deps.assets.get(url)!;
      reply.headers(headersFor(request));
      reply.header('cache-control', asset.immutable ? 'public, max-age=86400' : 'no-cache');
      return reply.type(asset.type).send(asset.body);
    });
  }

  app.post<{ Body: { link?: string; token?: string } }>(
    '/console/api/login',
    {
      schema: {
        hide: true,
        body: {
          type: 'object',
          properties: { link: { type: 'string', maxLength: 128 }, token: { type: 'string', maxLength: 256 } },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      reply.headers(headersFor(request));
      try {
        // Login CSRF: a browser names the page that sent this; it must be ours.
        const origin = request.headers.origin;
        if (origin !== undefined && origin !== ownOrigin(request)) throw new AdminError(403, 'insufficient_scope', 'cross-origin login refused');
        const identity = login(deps, request);
        const { cookie, session } = deps.sessions.create(identity, Date.now());
        deps.audit.record({
          event: 'console.login',
          principal: identity.name,
          outcome: 'success',
          reason: identity.patId ? 'personal access token' : 'login link',
          remote: request.ip,
          detail: { access: identity.access },
        });
        reply.header('set-cookie', sessionCookie(cookie, request.protocol === 'https', null));
        return reply.header('cache-control', 'no-store').send(me(session.identity, session.csrf));
      } catch (err) {
        return fail(reply, err);
      }
    },
  );

  app.get('/console/api/me', { schema: { hide: true } }, async (request, reply) => {
    reply.headers(headersFor(request)).header('cache-control', 'no-store');
    const cookie = readCookie(request.headers.cookie, COOKIE_NAME);
    const session = cookie === undefined ? undefined : deps.auth.current(cookie, Date.now());
    if (!session) return fail(reply, new AdminError(401, 'invalid_token', 'not logged in'));
    session.lastSeen = Date.now();
    return me(session.identity, session.csrf);
  });

  app.post('/console/api/logout', { schema: { hide: true } }, async (request, reply) => {
    reply.headers(headersFor(request)).header('cache-control', 'no-store');
    const cookie = readCookie(request.headers.cookie, COOKIE_NAME);
    const session = cookie === undefined ? undefined : deps.auth.current(cookie, Date.now());
    try {
      if (session) {
        deps.auth.checkChange(request, session);
        deps.sessions.end(cookie!);
        deps.audit.record({ event: 'console.logout', principal: session.identity.name, outcome: 'success', remote: request.ip });
      }
      reply.header('set-cookie', sessionCookie('', request.protocol === 'https', 0));
      return { logged_out: true };
    } catch (err) {
      return fail(reply, err);
    }
  });

  // Public: the browser device page needs the ports to connect to; a port is no secret.
  app.get('/console/api/broker', { schema: { hide: true } }, async (request, reply) => {
    reply.headers(headersFor(request)).header('cache-control', 'no-store');
    const { ws, wss } = deps.wsPorts();
    return { ws_port: ws, wss_port: wss, path: '/mqtt' };
  });

  app.get('/console/api/events', { schema: { hide: true } }, async (request, reply) => {
    const cookie = readCookie(request.headers.cookie, COOKIE_NAME);
    const session = cookie === undefined ? undefined : deps.auth.current(cookie, Date.now());
    if (!session) return fail(reply.headers(headersFor(request)), new AdminError(401, 'invalid_token', 'not logged in'));
    deps.feed.open(request, reply, headersFor(request));
  });
}

/** Who a login request logs in: a one-time link, or a PAT whose user holds an admin scope. */
function login(deps: ConsoleDeps, request: FastifyRequest<{ Body: { link?: string; token?: string } }>): ConsoleIdentity {
  const { link, token } = request.body ?? {};
  if (link !== undefined) {
    const redeemed = redeemLoginLink(deps.store, link, Date.now());
    if (!redeemed) {
      deps.audit.record({ event: 'console.login', principal: null, outcome: 'failure', reason: 'login link unknown, used or expired', remote: request.ip });
      throw new AdminError(401, 'invalid_token', 'this login link is not valid: it was used, expired, or never existed');
    }
    if (redeemed.user === null) return { kind: 'operator', name: 'operator', patId: null, access: 'write' };
    const user = deps.store.users.get(redeemed.user);
    if (!user || user.status !== 'enabled') throw new AdminError(401, 'invalid_token', 'this user cannot log in');
    return { kind: 'user', name: user.name, patId: null, access: adminAccessOf(user.scope) };
  }
  if (token !== undefined) {
    if (!token.startsWith('lk_pat_')) throw new AdminError(401, 'invalid_token', 'paste a personal access token (lk_pat_…)');
    const caller = deps.guard.byToken(request, token);
    const access = hasAdmin(caller.scopes, 'write') ? 'write' : hasAdmin(caller.scopes, 'read') ? 'read' : null;
    if (!access) throw new AdminError(403, 'insufficient_scope', 'this token holds neither admin:read nor admin:write');
    return { kind: 'user', name: caller.name, patId: caller.credentialId, access };
  }
  throw new AdminError(400, 'invalid_request', 'send a login link or a personal access token');
}

function adminAccessOf(scope: string): 'read' | 'write' {
  return /(^|\s)admin:write(\s|$)/.test(scope) ? 'write' : 'read';
}

function me(identity: ConsoleIdentity, csrf: string) {
  return { name: identity.name, kind: identity.kind, access: identity.access, csrf, idle_timeout_seconds: IDLE_TIMEOUT_MS / 1000 };
}

/**
 * HttpOnly (no script reads it), SameSite=Strict (no cross-site request
 * carries it), Secure over HTTPS. A browser-session cookie: the server
 * ends idle sessions itself; `maxAgeSeconds` 0 deletes it (logout).
 */
function sessionCookie(value: string, secure: boolean, maxAgeSeconds: number | null): string {
  return `${COOKIE_NAME}=${value}; Path=/; HttpOnly; SameSite=Strict${maxAgeSeconds !== null ? `; Max-Age=${maxAgeSeconds}` : ''}${secure ? '; Secure' : ''}`;
}

function fail(reply: FastifyReply, err: unknown): FastifyReply {
  const error = toAdminError(err);
  if (!error) throw err;
  return sendAdminError(reply, error);
}
