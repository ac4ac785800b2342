import type { FastifyInstance } from 'fastify';
import { LatchkeyError } from '../../errors/latchkey_error.js';
import { CLIENT_AUTH_METHODS, type ClientAuthMethod } from '../../store/clients.js';
import { ImportError, importClients, MAX_IMPORT_ROWS, type ImportRow } from '../../registry/client_import.js';
import type { AdminContext } from '../admin_deps.js';

/** As `client rotate-secret`'s `--grace 24h`: over HTTP as on the command line. */
const DEFAULT_SECRET_GRACE_SECONDS = 86_400;
import { CLIENT_VIEW, ERROR, ERROR_RESPONSES, NAME, SCOPE, secured, TIME } from '../schemas.js';

const ID_PARAMS = { type: 'object', properties: { id: NAME }, required: ['id'] } as const;
const LIVE_SESSIONS = { type: 'integer', description: 'live sessions the client had when the change was made; a running server ends them within a second' } as const;
const WITH_LIVE_SESSIONS = { ...CLIENT_VIEW, properties: { ...CLIENT_VIEW.properties, live_sessions: LIVE_SESSIONS } } as const;

/**
 * `/admin/clients`: list, register (answering as `client create`: the
 * secret once), show, disable, enable and delete device clients, through
 * the same ClientRegistry as the CLI; `PUT /clients/:id/auth-method` is
 * `client set-auth-method`.
 */
export function registerClientRoutes(app: FastifyInstance, { deps, caller }: AdminContext): void {
  app.get(
    '/clients',
    {
      schema: {
        summary: 'List device clients (never their secrets)',
        tags: ['clients'],
        ...secured('read'),
        response: { 200: { type: 'object', properties: { clients: { type: 'array', items: CLIENT_VIEW } } }, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      return { clients: deps.clients.list() };
    },
  );

  app.post<{ Body: { client_id: string; scope: string; token_ttl?: number; auth_method?: ClientAuthMethod; public_jwk?: string; static_password?: boolean } }>(
    '/clients',
    {
      schema: {
        summary: 'Register a device client; its secret is in this answer only',
        tags: ['clients'],
        ...secured('write'),
        body: {
          type: 'object',
          properties: {
            client_id: NAME,
            scope: SCOPE,
            token_ttl: { type: 'integer', minimum: 1, maximum: 31_536_000, description: 'access-token lifetime, seconds' },
            auth_method: { type: 'string', enum: [...CLIENT_AUTH_METHODS], default: 'client_secret_basic' },
            public_jwk: { type: 'string', minLength: 1, maxLength: 65_536, description: 'private_key_jwt only: a public JWK, PEM public key or PEM certificate' },
            static_password: {
              type: 'boolean',
              default: false,
              description: 'a stock device: a static MQTT password (in this answer only) instead of a client secret; not with auth_method or public_jwk',
            },
          },
          required: ['client_id', 'scope'],
          additionalProperties: false,
        },
        response: {
          201: {
            type: 'object',
            properties: {
              client_id: { type: 'string' },
              client_secret: { type: ['string', 'null'], description: 'null for methods without a secret' },
              mqtt_password: { type: 'string', description: 'with static_password only' },
            },
            required: ['client_id', 'client_secret'],
          },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request, reply) => {
      const { actor } = caller(request);
      const { client_id, scope, token_ttl, auth_method, public_jwk, static_password } = request.body;
      if (static_password === true) {
        if ((auth_method !== undefined && auth_method !== 'client_secret_basic') || public_jwk !== undefined) {
          throw new LatchkeyError('invalid_argument', 'static_password is for devices that cannot fetch tokens: leave out auth_method and public_jwk');
        }
        // As `client create --static-password`: no client secret, a first password with nothing to overlap.
        const created = deps.clients.create({ id: client_id, scope, ...(token_ttl !== undefined ? { tokenTtl: token_ttl } : {}), noSecret: true }, actor);
        const { mqtt_password } = deps.passwords.set(created.client_id, 0, actor);
        return reply.code(201).header('cache-control', 'no-store').send({ client_id: created.client_id, client_secret: null, mqtt_password });
      }
      const created = deps.clients.create(
        {
          id: client_id,
          scope,
          ...(token_ttl !== undefined ? { tokenTtl: token_ttl } : {}),
          ...(auth_method !== undefined ? { authMethod: auth_method } : {}),
          ...(public_jwk !== undefined ? { publicJwk: public_jwk } : {}),
        },
        actor,
      );
      return reply.code(201).header('cache-control', 'no-store').send(created);
    },
  );

  // `::` is a literal colon in a fastify path: the route is /admin/clients:batch.
  app.post<{ Body: { clients: Record<string, unknown>[]; certificates?: { days?: number } } }>(
    '/clients::batch',
    {
      schema: {
        summary: 'Register many clients at once, all or nothing; secrets (and certificates) are in this answer only',
        tags: ['clients'],
        ...secured('write'),
        body: {
          type: 'object',
          properties: {
            clients: {
              type: 'array',
              minItems: 1,
              maxItems: MAX_IMPORT_ROWS,
              description: 'rows as in `client import`: client_id, scope, token_ttl (seconds or a duration), auth_method; every row is checked before anything is written',
              items: { type: 'object' },
            },
            certificates: {
              type: 'object',
              properties: { days: { type: 'integer', minimum: 1, maximum: 3650 } },
              additionalProperties: false,
              description: 'also issue a certificate and key per client',
            },
          },
          required: ['clients'],
          additionalProperties: false,
        },
        response: {
          201: {
            type: 'object',
            properties: {
              created: { type: 'integer' },
              clients: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    row: { type: 'integer' },
                    client_id: { type: 'string' },
                    auth_method: { type: 'string' },
                    client_secret: { type: ['string', 'null'] },
                    certificate: {
                      type: ['object', 'null'],
                      properties: { serial: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' }, ca: { type: 'string' }, not_after: TIME },
                    },
                  },
                },
              },
            },
          },
          400: {
            ...ERROR,
            properties: {
              ...ERROR.properties,
              rows: {
                type: 'array',
                items: { type: 'object', properties: { row: { type: 'integer' }, client_id: { type: ['string', 'null'] }, error: { type: 'string' } } },
              },
            },
          },
          401: ERROR,
          403: ERROR,
          409: ERROR,
        },
      },
    },
    async (request, reply) => {
      const { actor } = caller(request);
      const rows: ImportRow[] = request.body.clients.map((fields, i) => ({ row: i + 1, line: null, fields }));
      const days = request.body.certificates?.days;
      let imported;
      try {
        imported = await importClients(
          deps.clients,
          rows,
          request.body.certificates ? { certificates: { registry: deps.certificates, ...(days !== undefined ? { days } : {}) } } : {},
          actor,
          (id) => deps.store.nameTaken(id),
        );
      } catch (err) {
        if (!(err instanceof ImportError)) throw err;
        return reply
          .code(400)
          .header('cache-control', 'no-store')
          .send({ error: 'invalid_request', error_description: err.message, rows: err.problems.map((p) => ({ row: p.row, client_id: p.client_id, error: p.error })) });
      }
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({
          created: imported.length,
          clients: imported.map((c) => ({
            row: c.row,
            client_id: c.client_id,
            auth_method: c.auth_method,
            client_secret: c.client_secret,
            certificate: c.certificate
              ? { serial: c.certificate.serial, cert: c.certificate.certPem, key: c.certificate.keyPem, ca: c.certificate.caPem, not_after: c.certificate.notAfter.toISOString() }
              : null,
          })),
        });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/clients/:id',
    {
      schema: {
        summary: 'Show one device client (never its secret)',
        tags: ['clients'],
        ...secured('read'),
        params: ID_PARAMS,
        response: { 200: CLIENT_VIEW, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      return deps.clients.show(request.params.id);
    },
  );

  app.post<{ Params: { id: string }; Querystring: { cascade?: boolean } }>(
    '/clients/:id/disable',
    {
      schema: {
        summary: 'Disable a client: no new tokens, live sessions end; with cascade=true also every device it vouched for as a hub',
        tags: ['clients'],
        ...secured('write'),
        params: ID_PARAMS,
        querystring: {
          type: 'object',
          properties: { cascade: { type: 'boolean', default: false, description: 'also disable the devices it provisioned (provision:<template>)' } },
          additionalProperties: false,
        },
        response: {
          200: { ...WITH_LIVE_SESSIONS, properties: { ...WITH_LIVE_SESSIONS.properties, cascade: { type: 'array', items: { type: 'string' }, description: 'with cascade=true: the devices also disabled' } } },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request) => {
      const { actor } = caller(request);
      const id = request.params.id;
      // Counted before the change: the sessions it is about to end (on every node).
      const live_sessions = deps.sessions.count(id);
      if (request.query.cascade !== true) return { ...deps.clients.setStatus(id, 'disabled', actor), live_sessions };
      const { hub, disabled } = deps.clients.disableCascade(id, actor);
      return { ...hub, live_sessions, cascade: disabled };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/clients/:id/enable',
    {
      schema: {
        summary: 'Enable a client again',
        tags: ['clients'],
        ...secured('write'),
        params: ID_PARAMS,
        response: { 200: WITH_LIVE_SESSIONS, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { actor } = caller(request);
      const live_sessions = deps.sessions.count(request.params.id);
      return { ...deps.clients.setStatus(request.params.id, 'enabled', actor), live_sessions };
    },
  );

  app.put<{ Params: { id: string }; Body: { auth_method: string; jwk?: string | Record<string, unknown> } }>(
    '/clients/:id/auth-method',
    {
      schema: {
        summary: 'Move a client to another authentication method; leaving a secret method deletes its secrets, moving onto one issues a new secret (in this answer only)',
        tags: ['clients'],
        ...secured('write'),
        params: ID_PARAMS,
        body: {
          type: 'object',
          properties: {
            auth_method: { type: 'string', enum: [...CLIENT_AUTH_METHODS] },
            jwk: {
              description: 'public key for private_key_jwt: a JWK object, or a JWK, PEM public key or PEM certificate as text (never a private key)',
              oneOf: [{ type: 'object' }, { type: 'string', minLength: 1, maxLength: 65_536 }],
            },
          },
          required: ['auth_method'],
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              client_id: { type: 'string' },
              auth_method: { type: 'string' },
              client_secret: { type: ['string', 'null'], description: 'a new secret, only when moving onto a secret method' },
              secret: { type: 'string', enum: ['issued', 'deleted', 'kept', 'none'] },
            },
            required: ['client_id', 'auth_method', 'client_secret', 'secret'],
          },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request, reply) => {
      const { actor } = caller(request);
      const { auth_method, jwk } = request.body;
      const publicJwk = jwk === undefined ? undefined : typeof jwk === 'string' ? jwk : JSON.stringify(jwk);
      const changed = deps.clients.setAuthMethod(request.params.id, auth_method, publicJwk !== undefined ? { publicJwk } : {}, actor);
      return reply.header('cache-control', 'no-store').send(changed);
    },
  );

  app.post<{ Params: { id: string }; Body: { grace_seconds?: number } | undefined }>(
    '/clients/:id/static-password',
    {
      schema: {
        summary: 'Set or rotate the static MQTT password of a stock device; the password is in this answer only',
        tags: ['clients'],
        ...secured('write'),
        params: ID_PARAMS,
        body: {
          type: ['object', 'null'],
          properties: { grace_seconds: { type: 'integer', minimum: 0, maximum: 31_536_000, description: 'how long the previous password keeps working (default 86400)' } },
          additionalProperties: false,
        },
        response: {
          201: {
            type: 'object',
            properties: { client_id: { type: 'string' }, mqtt_password: { type: 'string' }, previous_expires_at: { type: ['string', 'null'], format: 'date-time' } },
          },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request, reply) => {
      const { actor } = caller(request);
      const set = deps.passwords.set(request.params.id, request.body?.grace_seconds ?? 86_400, actor);
      return reply.code(201).header('cache-control', 'no-store').send(set);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/clients/:id/static-password',
    {
      schema: {
        summary: 'Revoke the static MQTT password(s) of a client; live sessions using one end within a second',
        tags: ['clients'],
        ...secured('write'),
        params: ID_PARAMS,
        response: { 200: { type: 'object', properties: { client_id: { type: 'string' }, revoked: { type: 'integer' } } }, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { actor } = caller(request);
      return deps.passwords.revoke(request.params.id, actor);
    },
  );

  app.post<{ Params: { id: string }; Body: { scope: string } }>(
    '/clients/:id/scope',
    {
      schema: {
        summary: 'Replace a client\'s allowed scopes (as `client set-scope`); live sessions narrow at once',
        tags: ['clients'],
        ...secured('write'),
        params: ID_PARAMS,
        body: { type: 'object', properties: { scope: SCOPE }, required: ['scope'], additionalProperties: false },
        response: { 200: CLIENT_VIEW, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { actor } = caller(request);
      return deps.clients.setScope(request.params.id, request.body.scope, actor);
    },
  );

  app.post<{ Params: { id: string }; Body: { grace?: number } }>(
    '/clients/:id/rotate-secret',
    {
      schema: {
        summary: 'A new client secret, in this answer only; the old one works until the grace ends (as `client rotate-secret`)',
        tags: ['clients'],
        ...secured('write'),
        params: ID_PARAMS,
        body: {
          type: ['object', 'null'],
          properties: { grace: { type: 'integer', minimum: 0, maximum: 31_536_000, default: DEFAULT_SECRET_GRACE_SECONDS, description: 'seconds the old secret keeps working (default 86400, as the CLI; 0 ends it now)' } },
          additionalProperties: false,
        },
        response: {
          200: { type: 'object', properties: { client_id: { type: 'string' }, client_secret: { type: 'string' } }, required: ['client_id', 'client_secret'] },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request, reply) => {
      const { actor } = caller(request);
      // The CLI's default: a rotation that cuts devices off must be asked for (grace 0), never the default.
      const rotated = deps.clients.rotateSecret(request.params.id, request.body?.grace ?? DEFAULT_SECRET_GRACE_SECONDS, actor);
      return reply.header('cache-control', 'no-store').send(rotated);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/clients/:id',
    {
      schema: {
        summary: 'Delete a client for good: live sessions end, its certificates are revoked, its tokens never work again',
        tags: ['clients'],
        ...secured('write'),
        params: ID_PARAMS,
        response: {
          200: { type: 'object', properties: { client_id: { type: 'string' }, deleted: { type: 'boolean' }, live_sessions: LIVE_SESSIONS } },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request) => {
      const { actor } = caller(request);
      const live_sessions = deps.sessions.count(request.params.id);
      deps.clients.delete(request.params.id, actor);
      return { client_id: request.params.id, deleted: true, live_sessions };
    },
  );
}
