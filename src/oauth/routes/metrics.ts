import type { FastifyInstance } from 'fastify';
import type { OAuthContext } from '../context.js';

/** `GET /metrics`: Prometheus text format (docs/INTERFACE.md#metrics-and-logs). */
export function registerMetrics(app: FastifyInstance, ctx: OAuthContext): void {
  app.get('/metrics', async (_request, reply) => {
    const text = await ctx.deps.metrics.text();
    return reply.header('cache-control', 'no-store').type(ctx.deps.metrics.registry.contentType).send(text);
  });
}
