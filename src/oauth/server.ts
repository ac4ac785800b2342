import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance } from 'fastify';
import { createAuthThrottle, ClientAuthenticator, type AuthThrottle } from './client_auth/authenticate_client.js';
import { CLIENT_AUTH_METHOD_HANDLERS } from './client_auth/methods.js';
import { endpointUrls, type OAuthContext, type OAuthServerDeps } from './context.js';
import { installErrorHandling, noStore } from './errors.js';
import { registerHealth } from './routes/health.js';
import { registerIntrospect } from './routes/introspect.js';
import { registerJwks } from './routes/jwks.js';
import { registerMetadata } from './routes/metadata.js';
import { registerMetrics } from './routes/metrics.js';
import { registerPki } from './routes/pki.js';
import { registerProvision } from './routes/provision.js';
import { registerRevoke } from './routes/revoke.js';
import { registerToken } from './routes/token.js';

export type { OAuthServerDeps } from './context.js';

/** Form bodies of OAuth requests are a few hundred bytes; anything near this is not one. */
const BODY_LIMIT = 16 * 1024;

/**
 * One failure throttle per set of deps, so the HTTP and HTTPS listeners
 * (created from the same deps by src/app.ts) share the count: a guesser
 * gets no extra attempts by switching ports.
 */
const throttles = new WeakMap<OAuthServerDeps, AuthThrottle>();

/**
 * Builds the OAuth 2.0 server (docs/INTERFACE.md#oauth-over-http): routes registered, not yet
 * listening. With `tls`, it serves HTTPS with the latchkey server
 * certificate and asks for (but does not require) a client certificate;
 * routes read it with `peerCertificate(request)`.
 *
 * @example
 * const http = await createOAuthServer(deps, { tls: false });
 * await http.listen({ host: '127.0.0.1', port: 0 });
 */
export async function createOAuthServer(
  deps: OAuthServerDeps,
  opts: {
    tls: boolean;
    /** Runs before the OAuth routes are added (src/app.ts adds the admin API and its OpenAPI document, which must see every route). */
    beforeRoutes?: (app: FastifyInstance) => Promise<void>;
  },
): Promise<FastifyInstance> {
  const common = {
    logger: false, // we audit and log through deps.log
    trustProxy: false, // request.ip is the socket peer; throttling must not trust X-Forwarded-For
    bodyLimit: BODY_LIMIT,
    requestTimeout: 10_000,
    return503OnClosing: true,
    // Fastify's default strips properties a schema does not list; the admin API refuses them
    // instead, so a misspelt field ("scopes" for "scope") is an error, not a silent no-op.
    // The OAuth routes list no such rule: RFC 6749 §3.2 says unknown parameters are ignored.
    ajv: { customOptions: { removeAdditional: false } },
  } as const;
  const app: FastifyInstance = opts.tls
    ? (Fastify({
        ...common,
        https: {
          key: deps.pki.serverKeyPem,
          cert: deps.pki.serverCertPem,
          ca: deps.pki.ca.certPem,
          requestCert: true,
          // A client certificate is optional on HTTPS; whoever relies on one checks it.
          rejectUnauthorized: false,
        },
      }) as unknown as FastifyInstance)
    : Fastify(common);

  let throttle = throttles.get(deps);
  if (!throttle) {
    throttle = createAuthThrottle(deps.config.authFailureLimit, deps.config.authFailureAddressLimit, deps.config.authFailureWindow);
    throttles.set(deps, throttle);
  }
  const ctx: OAuthContext = {
    deps,
    tls: opts.tls,
    auth: new ClientAuthenticator(CLIENT_AUTH_METHOD_HANDLERS, throttle),
    urls: endpointUrls(deps.config.issuer),
  };

  await app.register(formbody, { bodyLimit: BODY_LIMIT });
  installErrorHandling(app, deps.log);
  // Errors and anything not marked cacheable must not be stored (RFC 6749 §5.1).
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!reply.hasHeader('cache-control')) noStore(reply);
    return payload;
  });

  await opts.beforeRoutes?.(app);
  registerMetadata(app, ctx);
  registerJwks(app, ctx);
  registerToken(app, ctx);
  registerIntrospect(app, ctx);
  registerRevoke(app, ctx);
  registerHealth(app, ctx);
  registerMetrics(app, ctx);
  registerPki(app, ctx);
  registerProvision(app, ctx);
  return app;
}
