import type { FastifyInstance } from 'fastify';
import type { OAuthContext } from '../context.js';

/**
 * RFC 7517 JWK Set: the current key and every retired key whose tokens may
 * still be live. Cached briefly: a verifier that meets an unknown `kid`
 * refetches, and a retired key must vanish soon after its tokens expire.
 */
export function registerJwks(app: FastifyInstance, ctx: OAuthContext): void {
  app.get('/.well-known/jwks.json', async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=60').type('application/jwk-set+json');
    return ctx.deps.ring.jwks();
  });
}
