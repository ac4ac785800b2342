import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../admin_deps.js';
import { ERROR_RESPONSES, NAME, NULLABLE_TIME, SCOPE, secured } from '../schemas.js';
import { USER_VIEW } from './people.js';

const NAME_PARAMS = { type: 'object', properties: { name: NAME }, required: ['name'] } as const;
/** Credential lifetimes and graces, seconds: at most a year. */
const SECONDS = { type: 'integer', minimum: 0, maximum: 31_536_000 } as const;

/**
 * Creating and changing users, personal access tokens and API keys over
 * the admin API (admin:write), so `latchkey --server` can do what the CLI
 * does locally. A new token or key is in its creation answer only, with
 * `Cache-Control: no-store`; nothing here ever returns one again.
 */
export function registerPeopleChangeRoutes(app: FastifyInstance, { deps, caller }: AdminContext): void {
  app.post<{ Body: { name: string; scope?: string } }>(
    '/users',
    {
      schema: {
        summary: 'Add a user; their tokens can never hold more than the scope',
        tags: ['people'],
        ...secured('write'),
        body: { type: 'object', properties: { name: NAME, scope: SCOPE }, required: ['name'], additionalProperties: false },
        response: { 201: USER_VIEW, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => reply.code(201).send(deps.users.create(request.body, caller(request).actor)),
  );

  app.get<{ Params: { name: string } }>(
    '/users/:name',
    { schema: { summary: 'Show one user', tags: ['people'], ...secured('read'), params: NAME_PARAMS, response: { 200: USER_VIEW, ...ERROR_RESPONSES } } },
    async (request) => deps.users.show(request.params.name),
  );

  for (const status of ['disable', 'enable'] as const) {
    app.post<{ Params: { name: string } }>(
      `/users/:name/${status}`,
      {
        schema: {
          summary: status === 'disable' ? "Disable a user: every token stops, live sessions end" : 'Enable a user again',
          tags: ['people'],
          ...secured('write'),
          params: NAME_PARAMS,
          response: { 200: USER_VIEW, ...ERROR_RESPONSES },
        },
      },
      async (request) => deps.users.setStatus(request.params.name, status === 'disable' ? 'disabled' : 'enabled', caller(request).actor),
    );
  }

  app.post<{ Params: { name: string }; Body: { scope: string } }>(
    '/users/:name/scope',
    {
      schema: {
        summary: "Replace the most the user's tokens may hold",
        tags: ['people'],
        ...secured('write'),
        params: NAME_PARAMS,
        body: { type: 'object', properties: { scope: SCOPE }, required: ['scope'], additionalProperties: false },
        response: { 200: USER_VIEW, ...ERROR_RESPONSES },
      },
    },
    async (request) => deps.users.setScope(request.params.name, request.body.scope, caller(request).actor),
  );

  app.post<{ Body: { user: string; name: string; scope: string; expires_in?: number | 'never' } }>(
    '/pats',
    {
      schema: {
        summary: 'Issue a personal access token for a user; the token is in this answer only',
        tags: ['people'],
        ...secured('write'),
        body: {
          type: 'object',
          properties: {
            user: NAME,
            name: { type: 'string', minLength: 1, maxLength: 64 },
            scope: SCOPE,
            expires_in: { anyOf: [{ ...SECONDS, minimum: 1 }, { type: 'string', enum: ['never'] }], description: 'seconds, or "never"; default 30 days' },
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
        summary: 'Create an API key; the key is in this answer only',
        tags: ['people'],
        ...secured('write'),
        body: { type: 'object', properties: { name: NAME, scope: SCOPE }, required: ['name', 'scope'], additionalProperties: false },
        response: { 201: { type: 'object', properties: { id: { type: 'string' }, key: { type: 'string' } } }, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => reply.code(201).header('cache-control', 'no-store').send(deps.apiKeys.create(request.body, caller(request).actor)),
  );

  app.post<{ Params: { name: string }; Body: { grace?: number } }>(
    '/apikeys/:name/roll',
    {
      schema: {
        summary: 'Roll an API key: a new key (in this answer only); the old one works until the grace ends',
        tags: ['people'],
        ...secured('write'),
        params: NAME_PARAMS,
        body: { type: 'object', properties: { grace: { ...SECONDS, default: 604_800, description: 'seconds the old key stays valid; 0 ends it now' } }, additionalProperties: false },
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

  app.delete<{ Params: { name: string } }>(
    '/apikeys/:name',
    {
      schema: {
        summary: 'Delete an API key; it stops at once and its live sessions end',
        tags: ['people', 'revocations'],
        ...secured('write'),
        params: NAME_PARAMS,
        response: { 200: { type: 'object', properties: { id: { type: 'string' }, deleted: { type: 'boolean' } } }, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      deps.apiKeys.delete(request.params.name, caller(request).actor);
      return { id: request.params.name, deleted: true };
    },
  );
}
