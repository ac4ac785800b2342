import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../admin_deps.js';
import { ERROR_RESPONSES, NAME, NULLABLE_TIME, secured, TIME } from '../schemas.js';

const SESSION_VIEW = {
  type: 'object',
  properties: {
    client_id: { type: 'string', description: 'the MQTT client id' },
    principal: { type: 'string', description: 'the client, user or API key name' },
    kind: { type: 'string', enum: ['client', 'user', 'apikey'] },
    method: { type: 'string', enum: ['jwt', 'certificate', 'pat', 'apikey', 'static_password'], description: 'how it authenticated' },
    credential_id: { type: 'string', description: 'jti, certificate serial, PAT id or secret id (never a secret)' },
    remote: { type: ['string', 'null'] },
    connected_at: TIME,
    credential_expires_at: { ...NULLABLE_TIME, description: 'null when the credential never expires' },
    subscriptions: { type: 'array', items: { type: 'string' } },
    instance: { type: 'string', description: 'the server process holding the session' },
  },
} as const;

/** An MQTT client id: a name, or a person's `name@suffix`. */
const SESSION_ID = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9._-]{1,64}(@[^\\u0000-\\u001f]*)?$' } as const;

/**
 * `GET /admin/sessions` and `DELETE /admin/sessions/:client_id`: who is
 * connected (on every node), and ending a session, through the same
 * SessionRegistry as `latchkey sessions`.
 */
export function registerSessionRoutes(app: FastifyInstance, { deps, caller }: AdminContext): void {
  app.get<{ Querystring: { client_id?: string } }>(
    '/sessions',
    {
      schema: {
        summary: 'Live MQTT sessions',
        tags: ['sessions'],
        ...secured('read'),
        querystring: { type: 'object', properties: { client_id: { ...NAME, description: 'only this client, user or API key' } }, additionalProperties: false },
        response: { 200: { type: 'object', properties: { sessions: { type: 'array', items: SESSION_VIEW } } }, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      return { sessions: deps.sessions.list(request.query.client_id) };
    },
  );

  app.delete<{ Params: { client_id: string }; Querystring: { revoke?: boolean } }>(
    '/sessions/:client_id',
    {
      schema: {
        summary: 'End a live session; with revoke=true, first revoke the credential it used',
        tags: ['sessions'],
        ...secured('write'),
        params: { type: 'object', properties: { client_id: SESSION_ID }, required: ['client_id'] },
        querystring: { type: 'object', properties: { revoke: { type: 'boolean', default: false } }, additionalProperties: false },
        response: {
          200: {
            type: 'object',
            properties: {
              client_id: { type: 'string' },
              kicked: { type: 'integer', description: 'sessions ended (one per node holding it)' },
              revoked: {
                type: 'array',
                items: { type: 'object', properties: { method: { type: 'string' }, credential_id: { type: 'string' }, already_revoked: { type: 'boolean' } } },
              },
            },
          },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request) => {
      const { actor } = caller(request);
      return deps.sessions.kick(request.params.client_id, { revoke: request.query.revoke === true }, actor);
    },
  );
}
