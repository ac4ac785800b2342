import swagger from '@fastify/swagger';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { unauthorized } from './admin_error.js';
import type { AdminContext, AdminDeps } from './admin_deps.js';
import { type AdminAccess, type AdminCaller, BearerGuard } from './bearer_guard.js';
import { installAdminErrorHandling } from './error_handling.js';
import { registerAuditRoutes } from './routes/audit.js';
import { registerCertificateRoutes } from './routes/certificates.js';
import { registerClientRoutes } from './routes/clients.js';
import { registerAuditPruneRoutes } from './routes/audit_prune.js';
import { registerExplainRoutes } from './routes/explain.js';
import { registerOnboardingRoutes } from './routes/onboarding.js';
import { registerKeyRoutes } from './routes/keys.js';
import { registerPeopleRoutes } from './routes/people.js';
import { registerPeopleChangeRoutes } from './routes/people_changes.js';
import { registerSessionRoutes } from './routes/sessions.js';
import { registerTokenRoutes } from './routes/tokens.js';

export type { AdminDeps } from './admin_deps.js';

/** The route modules under `/admin`, one per resource. */
const ROUTE_MODULES: readonly ((app: FastifyInstance, ctx: AdminContext) => void)[] = [
  registerClientRoutes,
  registerCertificateRoutes,
  registerTokenRoutes,
  registerSessionRoutes,
  registerAuditRoutes,
  registerPeopleRoutes,
  registerPeopleChangeRoutes,
  registerKeyRoutes,
  registerExplainRoutes,
  registerOnboardingRoutes,
  registerAuditPruneRoutes,
];

/**
 * Routes of the OAuth server and operations, which declare no schemas of
 * their own (their standards describe them): what the document says of each.
 */
const DESCRIBED_BY_STANDARDS: Readonly<Record<string, { summary: string; tags: string[] }>> = {
  '/.well-known/oauth-authorization-server': { summary: 'Authorization server metadata (RFC 8414)', tags: ['oauth'] },
  '/.well-known/jwks.json': { summary: 'Public signing keys (RFC 7517)', tags: ['oauth'] },
  '/oauth/token': { summary: 'Token endpoint: client_credentials grant, form body (RFC 6749 §4.4)', tags: ['oauth'] },
  '/oauth/introspect': { summary: 'Token introspection, caller authenticates as a client (RFC 7662)', tags: ['oauth'] },
  '/oauth/revoke': { summary: 'Token revocation, caller authenticates as a client (RFC 7009)', tags: ['oauth'] },
  '/healthz': { summary: '200 once every listener accepts connections', tags: ['operations'] },
  '/metrics': { summary: 'Prometheus metrics, text format', tags: ['operations'] },
  '/pki/ca.crt': { summary: 'The latchkey CA certificate, PEM', tags: ['pki'] },
  '/pki/crl': { summary: 'The CA\'s certificate revocation list, DER (RFC 5280 §5)', tags: ['pki'] },
  '/provision': { summary: 'Device provisioning with an onboarding claim (Bearer lk_clm_…), HTTPS only: {"client_id","csr"} → certificate', tags: ['onboarding'] },
};

/**
 * Adds the admin API (docs/INTERFACE.md#admin-api) to an HTTP server: routes under
 * `/admin/` authenticated by `Authorization: Bearer <PAT or API key>` with
 * `admin:read` / `admin:write`, and `GET /openapi.json`, an OpenAPI 3
 * document built from the route schemas (which also validate input).
 * Call it before any other route is added: the document lists every route
 * registered on `app` after this call (createOAuthServer's `beforeRoutes`).
 *
 * @example
 * const http = await createOAuthServer(deps, { tls: false, beforeRoutes: (app) => registerAdminApi(app, adminDeps) });
 */
export async function registerAdminApi(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'latchkey admin API',
        description:
          'Operate latchkey over HTTP. Authenticate with `Authorization: Bearer <personal access token or API key>`; ' +
          'reading needs admin:read, changing needs admin:write (which implies admin:read).',
        version: '1',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'a personal access token (lk_pat_…) or API key (lk_key_…)' },
        },
      },
      tags: [
        { name: 'oauth', description: 'OAuth 2.0 endpoints (docs/INTERFACE.md#oauth-over-http)' },
        { name: 'clients', description: 'device clients' },
        { name: 'certificates', description: 'device certificates' },
        { name: 'revocations', description: 'revoking tokens and certificates' },
        { name: 'sessions', description: 'live MQTT sessions' },
        { name: 'audit', description: 'the audit trail' },
        { name: 'policy', description: 'what a principal may do, and why' },
        { name: 'people', description: 'users, personal access tokens and API keys' },
        { name: 'onboarding', description: 'provisioning templates, onboarding claims and device provisioning' },
        { name: 'keys', description: 'token signing keys' },
        { name: 'pki', description: 'the device CA' },
        { name: 'operations', description: 'health and metrics' },
      ],
    },
    transform: ({ schema, url }) => {
      const described = DESCRIBED_BY_STANDARDS[url];
      return { schema: described && !schema?.summary ? { ...schema, ...described } : schema, url };
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async (_request, reply) => {
    // The document describes routes, never credentials: cacheable.
    reply.header('cache-control', 'public, max-age=300');
    return app.swagger();
  });

  const guard = new BearerGuard(deps.pats, deps.apiKeys, deps.audit);
  const callers = new WeakMap<FastifyRequest, AdminCaller>();
  const ctx: AdminContext = {
    deps,
    caller: (request) => {
      const caller = callers.get(request);
      // Deny by default: a route the hook did not pass has no caller.
      if (!caller) throw unauthorized('a bearer token is required', false);
      return caller;
    },
  };
  await app.register(
    async (admin) => {
      installAdminErrorHandling(admin, deps.log);
      // First thing on every admin request, before the body is parsed or
      // validated: who is calling, and may they read or write?
      admin.addHook('onRequest', async (request) => {
        const access = accessFor(request.method);
        // A Bearer token wins; without one, the console's session cookie may stand in (with its CSRF checks).
        const bySession = request.headers.authorization === undefined ? (deps.sessionAuth?.authenticate(request, access) ?? null) : null;
        callers.set(request, bySession ? guard.authorize(request, bySession, access) : guard.check(request, access));
      });
      for (const register of ROUTE_MODULES) register(admin, ctx);
    },
    { prefix: '/admin' },
  );
}

/** Reading needs admin:read; anything else (POST, DELETE, …) needs admin:write. */
function accessFor(method: string): AdminAccess {
  return method === 'GET' || method === 'HEAD' ? 'read' : 'write';
}
