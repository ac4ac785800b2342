import type { FastifyInstance } from 'fastify';
import type { OAuthContext } from '../context.js';

/**
 * `GET /healthz`: 200 once every listener accepts connections, the store
 * answers and (with `--cluster`) Redis answers (docs/INTERFACE.md#running-the-server),
 * else 503 with the reason.
 */
export function registerHealth(app: FastifyInstance, ctx: OAuthContext): void {
  app.get('/healthz', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    if (!ctx.deps.ready()) return reply.code(503).send({ status: 'unavailable' });
    // PostgreSQL (--store) may be away while this node runs: say so, so a balancer sends devices elsewhere.
    const store = ctx.deps.store.reachable();
    if (!store.ok) return reply.code(503).send({ status: 'unavailable', reason: 'store_unavailable' });
    // A cluster node that cannot reach Redis cannot route messages (docs/CLUSTER.md).
    if (!ctx.deps.routing()) return reply.code(503).send({ status: 'unavailable', reason: 'cluster_unavailable' });
    return { status: 'ok' };
  });
}
