import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../admin_deps.js';
import { ERROR_RESPONSES, NULLABLE_TIME, secured, TIME } from '../schemas.js';

const SESSION_VIEW = {
  type: 'object',
  properties: {
    client_id: { type: 'string', description: 'the MQTT client id' },
    principal: { type: 'string', description: 'the client, user or API key name' },
    kind: { type: 'string', enum: ['client', 'user', 'apikey'] },
    method: { type: 'string', enum: ['jwt', 'certificate', 'pat', 'apikey'], description: 'how it authenticated' },
    remote: { type: ['string', 'null'] },
    connected_at: TIME,
    credential_expires_at: { ...NULLABLE_TIME, description: 'null when the credential never expires' },
    subscriptions: { type: 'array', items: { type: 'string' } },
  },
} as const;

/** `GET /admin/sessions`: who is connected, since when, how, and until when their credential holds. */
export function registerSessionRoutes(app: FastifyInstance, { deps }: AdminContext): void {
  app.get(
    '/sessions',
    {
      schema: {
        summary: 'Live MQTT sessions',
        tags: ['sessions'],
        ...secured('read'),
        response: { 200: { type: 'object', properties: { sessions: { type: 'array', items: SESSION_VIEW } } }, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      return { sessions: deps.broker.sessions() };
    },
  );
}
