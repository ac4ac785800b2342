import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../admin_deps.js';
import { ERROR_RESPONSES, NAME, SCOPE, secured } from '../schemas.js';
import { USER_VIEW } from './people.js';

const NAME_PARAMS = { type: 'object', properties: { name: NAME }, required: ['name'] } as const;

/**
 * Creating and changing users over the admin API (admin:write), so
 * `latchkey --server` can do what `latchkey user` does locally. (Tokens and
 * keys are created in people.ts.)
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
}
