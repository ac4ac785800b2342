import type { FastifyInstance } from 'fastify';
import { createLoginLink, LOGIN_LINK_TTL_MS } from '../../console/login_links.js';
import { LatchkeyError } from '../../errors/latchkey_error.js';
import type { AdminContext } from '../admin_deps.js';
import { ERROR_RESPONSES, NAME, secured, TIME } from '../schemas.js';

/**
 * `POST /admin/console/login-links`: a one-time console login URL, as
 * `latchkey console` prints it (the same createLoginLink). Without `user`
 * the link logs in the caller's own user (a PAT's). The operator's
 * full-access link is never minted here, not even by an operator console
 * session (that would outlive its idle expiry): it is for whoever holds the
 * data directory. An API key, which is no person, must name the user.
 */
export function registerConsoleLinkRoutes(app: FastifyInstance, { deps, caller }: AdminContext): void {
  app.post<{ Body: { user?: string } | undefined }>(
    '/console/login-links',
    {
      schema: {
        summary: `A one-time console login URL (single use, ${LOGIN_LINK_TTL_MS / 60_000} minutes); the secret rides in the URL fragment, in this answer only`,
        tags: ['console'],
        ...secured('write'),
        body: {
          type: ['object', 'null'],
          properties: { user: { ...NAME, description: 'log in as this user (needs admin:read or admin:write); default: the caller\'s own user' } },
          additionalProperties: false,
        },
        response: {
          201: {
            type: 'object',
            properties: { url: { type: 'string' }, user: { type: 'string' }, expires_at: TIME },
            required: ['url', 'user', 'expires_at'],
          },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request, reply) => {
      const who = caller(request);
      const user = request.body?.user ?? (who.kind === 'user' ? who.name : undefined);
      if (user === undefined) throw new LatchkeyError('invalid_argument', 'name the user the link logs in ("user"): only a personal access token may leave it out');
      const { secret, expiresAt } = createLoginLink(deps.store, deps.audit, user, who.actor, Date.now());
      const url = `${deps.publicUrl.replace(/\/+$/, '')}/console/#login=${secret}`;
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({ url, user, expires_at: new Date(expiresAt).toISOString() });
    },
  );
}
