import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../admin_deps.js';
import { ERROR_RESPONSES, NAME, NULLABLE_TIME, secured, TIME } from '../schemas.js';

const USER_VIEW = {
  type: 'object',
  properties: { name: { type: 'string' }, scope: { type: 'string' }, status: { type: 'string', enum: ['enabled', 'disabled'] }, created_at: TIME, updated_at: TIME },
} as const;

const PAT_VIEW = {
  type: 'object',
  description: 'a personal access token: its prefix and last four characters, never the token',
  properties: {
    id: { type: 'string' },
    user: { type: 'string' },
    name: { type: 'string' },
    scope: { type: 'string' },
    prefix: { type: 'string' },
    last4: { type: 'string' },
    status: { type: 'string', enum: ['active', 'expired', 'revoked'] },
    created_at: TIME,
    expires_at: NULLABLE_TIME,
    revoked_at: NULLABLE_TIME,
    last_used_at: NULLABLE_TIME,
    last_used_addr: { type: ['string', 'null'] },
  },
} as const;

const API_KEY_VIEW = {
  type: 'object',
  description: 'an API key: its prefix and last four characters, never the key',
  properties: {
    id: { type: 'string' },
    scope: { type: 'string' },
    status: { type: 'string', enum: ['enabled', 'disabled'] },
    prefix: { type: 'string' },
    last4: { type: ['string', 'null'] },
    created_at: TIME,
    updated_at: TIME,
    secrets: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          prefix: { type: 'string' },
          last4: { type: 'string' },
          created_at: TIME,
          expires_at: NULLABLE_TIME,
          last_used_at: NULLABLE_TIME,
          last_used_addr: { type: ['string', 'null'] },
        },
      },
    },
    last_used_at: NULLABLE_TIME,
    last_used_addr: { type: ['string', 'null'] },
  },
} as const;

/**
 * Users, their personal access tokens and API keys, seen from the admin
 * API: listed (never a secret); a PAT revoked, a user deleted, an API key
 * disabled or enabled, so a leaked credential can be stopped without shell
 * access. Creating credentials stays with the CLI, where the secret is shown
 * once to the operator who asked for it.
 */
export function registerPeopleRoutes(app: FastifyInstance, { deps, caller }: AdminContext): void {
  app.get(
    '/users',
    {
      schema: {
        summary: 'List users',
        tags: ['people'],
        ...secured('read'),
        response: { 200: { type: 'object', properties: { users: { type: 'array', items: USER_VIEW } } }, ...ERROR_RESPONSES },
      },
    },
    async () => ({ users: deps.users.list() }),
  );

  app.delete<{ Params: { name: string } }>(
    '/users/:name',
    {
      schema: {
        summary: 'Delete a user and every token of theirs; their live sessions end and the name is free again',
        tags: ['people'],
        ...secured('write'),
        params: { type: 'object', properties: { name: NAME }, required: ['name'] },
        response: { 200: { type: 'object', properties: { name: { type: 'string' }, deleted: { type: 'boolean' } } }, ...ERROR_RESPONSES },
      },
    },
    async (request) => deps.users.delete(request.params.name, caller(request).actor),
  );

  app.get<{ Querystring: { user?: string } }>(
    '/pats',
    {
      schema: {
        summary: 'List personal access tokens: name, scopes, created, expires, last used',
        tags: ['people'],
        ...secured('read'),
        querystring: { type: 'object', properties: { user: NAME }, additionalProperties: false },
        response: { 200: { type: 'object', properties: { tokens: { type: 'array', items: PAT_VIEW } } }, ...ERROR_RESPONSES },
      },
    },
    async (request) => ({ tokens: deps.pats.list(request.query.user) }),
  );

  app.post<{ Params: { id: string } }>(
    '/pats/:id/revoke',
    {
      schema: {
        summary: "Revoke one personal access token; the user's other tokens keep working",
        tags: ['people', 'revocations'],
        ...secured('write'),
        params: { type: 'object', properties: { id: { type: 'string', pattern: '^pat_[0-9A-Za-z]{1,64}$' } }, required: ['id'] },
        response: {
          200: {
            type: 'object',
            properties: { id: { type: 'string' }, user: { type: 'string' }, revoked: { type: 'boolean' }, already_revoked: { type: 'boolean' } },
          },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request) => {
      const { view, alreadyRevoked } = deps.pats.revoke(request.params.id, caller(request).actor);
      return { id: view.id, user: view.user, revoked: true, already_revoked: alreadyRevoked };
    },
  );

  app.get(
    '/apikeys',
    {
      schema: {
        summary: 'List API keys by prefix and last four characters',
        tags: ['people'],
        ...secured('read'),
        response: { 200: { type: 'object', properties: { api_keys: { type: 'array', items: API_KEY_VIEW } } }, ...ERROR_RESPONSES },
      },
    },
    async () => ({ api_keys: deps.apiKeys.list() }),
  );

  for (const status of ['disable', 'enable'] as const) {
    app.post<{ Params: { name: string } }>(
      `/apikeys/:name/${status}`,
      {
        schema: {
          summary: status === 'disable' ? 'Disable an API key: refused at once, live sessions end' : 'Enable an API key again',
          tags: ['people'],
          ...secured('write'),
          params: { type: 'object', properties: { name: NAME }, required: ['name'] },
          response: { 200: API_KEY_VIEW, ...ERROR_RESPONSES },
        },
      },
      async (request) => deps.apiKeys.setStatus(request.params.name, status === 'disable' ? 'disabled' : 'enabled', caller(request).actor),
    );
  }
}
