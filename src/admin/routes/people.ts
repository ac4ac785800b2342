import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../admin_deps.js';
import { ERROR_RESPONSES, NAME, NULLABLE_TIME, SCOPE, secured, TIME } from '../schemas.js';

export const USER_VIEW = {
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
 * API: listed (never a secret), created (the secret in that answer only,
 * `Cache-Control: no-store`), a PAT revoked, a user deleted, an API key
 * rolled, disabled, enabled or deleted, so a leaked credential can be
 * stopped without shell access.
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
            properties: { id: { type: 'string' }, user: { type: 'string' }, name: { type: 'string' }, revoked: { type: 'boolean' }, already_revoked: { type: 'boolean' } },
          },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request) => {
      const { view, alreadyRevoked } = deps.pats.revoke(request.params.id, caller(request).actor);
      return { id: view.id, user: view.user, name: view.name, revoked: true, already_revoked: alreadyRevoked };
    },
  );

  app.post<{ Body: { user: string; name: string; scope: string; expires_in?: number | 'never' } }>(
    '/pats',
    {
      schema: {
        summary: 'Create a personal access token for a user; the token is in this answer only (as `pat create`)',
        tags: ['people'],
        ...secured('write'),
        body: {
          type: 'object',
          properties: {
            user: NAME,
            name: { type: 'string', minLength: 1, maxLength: 64 },
            scope: SCOPE,
            expires_in: { anyOf: [{ type: 'integer', minimum: 60, maximum: 315_360_000 }, { type: 'string', enum: ['never'] }], description: 'seconds, or "never"; default 30 days' },
          },
          required: ['user', 'name', 'scope'],
          additionalProperties: false,
        },
        response: {
          201: { type: 'object', properties: { id: { type: 'string' }, token: { type: 'string' }, expires_at: NULLABLE_TIME } },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request, reply) => {
      const { user, name, scope, expires_in } = request.body;
      const created = deps.pats.create({ user, name, scope, ...(expires_in !== undefined ? { expiresIn: expires_in } : {}) }, caller(request).actor);
      return reply.code(201).header('cache-control', 'no-store').send(created);
    },
  );

  app.post<{ Body: { name: string; scope: string } }>(
    '/apikeys',
    {
      schema: {
        summary: 'Create an API key; the key is in this answer only (as `apikey create`)',
        tags: ['people'],
        ...secured('write'),
        body: { type: 'object', properties: { name: NAME, scope: SCOPE }, required: ['name', 'scope'], additionalProperties: false },
        response: { 201: { type: 'object', properties: { id: { type: 'string' }, key: { type: 'string' } } }, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const created = deps.apiKeys.create(request.body, caller(request).actor);
      return reply.code(201).header('cache-control', 'no-store').send(created);
    },
  );

  app.post<{ Params: { name: string }; Body: { grace?: number } | null }>(
    '/apikeys/:name/roll',
    {
      schema: {
        summary: 'Roll an API key: a new key in this answer only; the old one works until the grace ends (as `apikey roll`)',
        tags: ['people', 'revocations'],
        ...secured('write'),
        params: { type: 'object', properties: { name: NAME }, required: ['name'] },
        body: {
          type: ['object', 'null'],
          properties: { grace: { type: 'integer', minimum: 0, maximum: 31_536_000, default: 604_800, description: 'seconds the old key keeps working (default 7 days)' } },
          additionalProperties: false,
        },
        response: {
          200: { type: 'object', properties: { id: { type: 'string' }, key: { type: 'string' }, previous_expires_at: { type: 'string' } } },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request, reply) => {
      const rolled = deps.apiKeys.roll(request.params.name, request.body?.grace ?? 604_800, caller(request).actor);
      return reply.header('cache-control', 'no-store').send(rolled);
    },
  );

  for (const status of ['disable', 'enable'] as const) {
    app.post<{ Params: { name: string } }>(
      `/apikeys/:name/${status}`,
      {
        schema: {
          summary: status === 'disable' ? 'Disable an API key: every secret of it is refused, live sessions end' : 'Enable an API key again',
          tags: ['people', 'revocations'],
          ...secured('write'),
          params: { type: 'object', properties: { name: NAME }, required: ['name'] },
          response: { 200: API_KEY_VIEW, ...ERROR_RESPONSES },
        },
      },
      async (request) => deps.apiKeys.setStatus(request.params.name, status === 'disable' ? 'disabled' : 'enabled', caller(request).actor),
    );
  }

  app.delete<{ Params: { name: string } }>(
    '/apikeys/:name',
    {
      schema: {
        summary: 'Delete an API key; its live sessions end',
        tags: ['people', 'revocations'],
        ...secured('write'),
        params: { type: 'object', properties: { name: NAME }, required: ['name'] },
        response: { 200: { type: 'object', properties: { name: { type: 'string' }, deleted: { type: 'boolean' } } }, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      deps.apiKeys.delete(request.params.name, caller(request).actor);
      return { name: request.params.name, deleted: true };
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
}
