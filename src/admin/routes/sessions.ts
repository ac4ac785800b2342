import type { FastifyInstance } from 'fastify';
import { LatchkeyError } from '../../errors/latchkey_error.js';
import { revokeToken } from '../../registry/tokens.js';
import type { AdminContext, DisconnectedSession } from '../admin_deps.js';
import type { AdminCaller } from '../bearer_guard.js';
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

/**
 * `GET /admin/sessions`: who is connected, since when, how, and until when
 * their credential holds. `POST /admin/sessions/:client_id/disconnect` ends
 * one, and with `{"revoke":true}` revokes the credential it used too, so
 * the device cannot simply reconnect.
 */
export function registerSessionRoutes(app: FastifyInstance, { deps, caller }: AdminContext): void {
  app.post<{ Params: { client_id: string }; Body: { revoke?: boolean } | null }>(
    '/sessions/:client_id/disconnect',
    {
      schema: {
        summary: 'End a live session; with revoke, also revoke the token, PAT or certificate it used',
        tags: ['sessions', 'revocations'],
        ...secured('write'),
        params: { type: 'object', properties: { client_id: { type: 'string', pattern: '^[A-Za-z0-9._@-]{1,160}$' } }, required: ['client_id'] },
        body: { type: ['object', 'null'], properties: { revoke: { type: 'boolean', default: false } }, additionalProperties: false },
        response: {
          200: {
            type: 'object',
            properties: { client_id: { type: 'string' }, principal: { type: 'string' }, method: { type: 'string' }, disconnected: { type: 'boolean' }, revoked: { type: 'boolean' } },
          },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request) => {
      const who = caller(request);
      const revoke = request.body?.revoke === true;
      const sessionView = deps.broker.sessions().find((s) => s.client_id === request.params.client_id);
      if (!sessionView) throw new LatchkeyError('not_found', `no live session "${request.params.client_id}"`);
      if (revoke && sessionView.method === 'apikey') {
        // An API key has no single-secret revocation: rolling or deleting it is the operator's choice.
        throw new LatchkeyError('invalid_argument', 'an API key session cannot be revoked here: roll or delete the API key');
      }
      const ended = deps.broker.disconnect(request.params.client_id, who.actor);
      if (!ended) throw new LatchkeyError('not_found', `no live session "${request.params.client_id}"`);
      if (revoke) revokeCredential(deps, ended, who, request.ip);
      return { client_id: ended.client_id, principal: ended.principal, method: ended.method, disconnected: true, revoked: revoke };
    },
  );

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

/** Revokes what an ended session authenticated with, through the same registries as the CLI. */
function revokeCredential(deps: AdminContext['deps'], ended: DisconnectedSession, who: AdminCaller, remote: string): void {
  switch (ended.method) {
    case 'jwt':
      revokeToken(deps.store, deps.audit, { jti: ended.credential_id, ...(ended.exp !== null ? { exp: ended.exp } : {}), clientId: ended.principal, remote }, who.actor);
      return;
    case 'pat':
      deps.pats.revoke(ended.credential_id, who.actor);
      return;
    case 'certificate':
      deps.certificates.revoke(ended.credential_id, who.actor);
      return;
    default:
      throw new LatchkeyError('invalid_argument', `a ${ended.method} credential cannot be revoked here`);
  }
}
