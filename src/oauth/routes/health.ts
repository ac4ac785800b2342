import type { FastifyInstance } from 'fastify';
import type { OAuthContext } from '../context.js';

/** `GET /healthz`: 200 once every listener accepts connections (docs/INTERFACE.md#running-the-server), else 503. */
export function registerHealth(app: FastifyInstance, ctx: OAuthContext): void {
  app.get('/healthz', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    if (ctx.deps.ready()) return { status: 'ok' };
    return reply.code(503).send({ status: 'unavailable' });
  });
}
