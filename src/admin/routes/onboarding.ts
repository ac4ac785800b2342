import type { FastifyInstance } from 'fastify';
import QRCode from 'qrcode';
import { OPERATOR_CLAIM_LIMITS } from '../../onboarding/claims.js';
import { MAX_CERT_DAYS } from '../../onboarding/templates.js';
import type { AdminContext } from '../admin_deps.js';
import { ERROR_RESPONSES, NAME, NULLABLE_TIME, SCOPE, secured, TIME } from '../schemas.js';

const TEMPLATE_VIEW = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    scope: { type: 'string' },
    id_prefix: { type: 'string' },
    cert_days: { type: 'integer' },
    auth: { type: 'string', enum: ['cert', 'secret'] },
    created_at: TIME,
  },
} as const;

const CLAIM_VIEW = {
  type: 'object',
  description: 'an onboarding claim: its prefix and last four characters, never the secret',
  properties: {
    id: { type: 'string' },
    template: { type: 'string' },
    prefix: { type: 'string' },
    last4: { type: 'string' },
    uses: { type: 'integer' },
    used: { type: 'integer' },
    status: { type: 'string', enum: ['active', 'used', 'expired', 'revoked'] },
    created_by: { type: 'string' },
    created_at: TIME,
    expires_at: TIME,
    revoked_at: NULLABLE_TIME,
  },
} as const;

const CLAIM_ID = { type: 'string', pattern: '^clm_[0-9A-Za-z]{1,64}$' } as const;

/**
 * Onboarding from the admin API: provisioning templates (what a device
 * provisioned with a claim becomes) and claims (the one-time secret a
 * device provisions itself with). The same registries and audit events as
 * `latchkey template …` and `latchkey claim …`. A claim's secret, its
 * onboarding string and that string as a QR code are in the create answer
 * only (`Cache-Control: no-store`); lists show the prefix and last four
 * characters.
 */
export function registerOnboardingRoutes(app: FastifyInstance, { deps, caller }: AdminContext): void {
  app.get(
    '/templates',
    {
      schema: {
        summary: 'List provisioning templates',
        tags: ['onboarding'],
        ...secured('read'),
        response: { 200: { type: 'object', properties: { templates: { type: 'array', items: TEMPLATE_VIEW } } }, ...ERROR_RESPONSES },
      },
    },
    async () => ({ templates: deps.templates.list() }),
  );

  app.get<{ Params: { name: string } }>(
    '/templates/:name',
    {
      schema: {
        summary: 'Show one provisioning template',
        tags: ['onboarding'],
        ...secured('read'),
        params: { type: 'object', properties: { name: NAME }, required: ['name'] },
        response: { 200: TEMPLATE_VIEW, ...ERROR_RESPONSES },
      },
    },
    async (request) => deps.templates.show(request.params.name),
  );

  app.post<{ Body: { name: string; scope: string; id_prefix?: string; cert_days?: number; auth?: string } }>(
    '/templates',
    {
      schema: {
        summary: 'Define a provisioning template (as `template create`); claims are minted for it',
        tags: ['onboarding'],
        ...secured('write'),
        body: {
          type: 'object',
          properties: {
            name: NAME,
            scope: { ...SCOPE, description: 'scopes every provisioned device gets; {client_id} stands for its id' },
            id_prefix: { type: 'string', maxLength: 32, default: '', description: 'provisioned client ids must start with this' },
            cert_days: { type: 'integer', minimum: 1, maximum: MAX_CERT_DAYS, default: 365, description: 'lifetime of certificates issued at provisioning and renewal' },
            auth: { type: 'string', enum: ['cert', 'secret'], default: 'cert', description: 'cert (the device sends a CSR) or secret (it gets a client secret)' },
          },
          required: ['name', 'scope'],
          additionalProperties: false,
        },
        response: { 201: TEMPLATE_VIEW, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const { name, scope, id_prefix, cert_days, auth } = request.body;
      // validateTemplate (in the registry) checks every field again: the schema is the first fence, not the only one.
      const view = deps.templates.create({ name, scope, idPrefix: id_prefix ?? '', certDays: cert_days ?? 365, auth: auth ?? 'cert' }, caller(request).actor);
      return reply.code(201).send(view);
    },
  );

  app.delete<{ Params: { name: string } }>(
    '/templates/:name',
    {
      schema: {
        summary: 'Delete a template and its claims; devices it provisioned stay',
        tags: ['onboarding'],
        ...secured('write'),
        params: { type: 'object', properties: { name: NAME }, required: ['name'] },
        response: { 200: { type: 'object', properties: { name: { type: 'string' }, deleted: { type: 'boolean' } } }, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      deps.templates.delete(request.params.name, caller(request).actor);
      return { name: request.params.name, deleted: true };
    },
  );

  app.get(
    '/claims',
    {
      schema: {
        summary: 'List onboarding claims: template, uses, status (never the secret)',
        tags: ['onboarding'],
        ...secured('read'),
        response: { 200: { type: 'object', properties: { claims: { type: 'array', items: CLAIM_VIEW } } }, ...ERROR_RESPONSES },
      },
    },
    async () => ({ claims: deps.claims.list() }),
  );

  app.post<{ Body: { template: string; uses?: number; expires_in?: number } }>(
    '/claims',
    {
      schema: {
        summary: 'Mint an onboarding claim (as `claim create`); the secret, onboarding string and its QR code are in this answer only',
        tags: ['onboarding'],
        ...secured('write'),
        body: {
          type: 'object',
          properties: {
            template: NAME,
            uses: { type: 'integer', minimum: 1, maximum: OPERATOR_CLAIM_LIMITS.maxUses, default: 1, description: 'how many devices it may provision' },
            expires_in: { type: 'integer', minimum: 1, maximum: OPERATOR_CLAIM_LIMITS.maxLifetime, default: 900, description: 'lifetime in seconds (default 15 minutes)' },
          },
          required: ['template'],
          additionalProperties: false,
        },
        response: {
          201: {
            type: 'object',
            properties: {
              id: { type: 'string' },
              claim: { type: 'string', description: 'the claim secret, lk_clm_…' },
              onboarding: { type: 'string', description: 'the onboarding string a device reads (carries the claim)' },
              expires_at: TIME,
              qr_svg: { type: 'string', description: 'the onboarding string as a QR code, an SVG document' },
            },
          },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request, reply) => {
      const { template, uses, expires_in } = request.body;
      const created = deps.claims.create(template, { uses, expiresIn: expires_in }, OPERATOR_CLAIM_LIMITS, caller(request).actor, deps.onboardingEndpoint());
      // The QR code encodes the secret: made here, in the one answer that may carry it, never by a GET a cache could keep.
      const qr_svg = await QRCode.toString(created.onboarding, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
      return reply.code(201).header('cache-control', 'no-store').send({ ...created, qr_svg });
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/claims/:id',
    {
      schema: {
        summary: 'Revoke an onboarding claim; its unused uses die with it (as `claim revoke`)',
        tags: ['onboarding', 'revocations'],
        ...secured('write'),
        params: { type: 'object', properties: { id: CLAIM_ID }, required: ['id'] },
        response: {
          200: { type: 'object', properties: { id: { type: 'string' }, revoked: { type: 'boolean' }, already_revoked: { type: 'boolean' } } },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request) => {
      const { view, alreadyRevoked } = deps.claims.revoke(request.params.id, caller(request).actor);
      return { id: view.id, revoked: true, already_revoked: alreadyRevoked };
    },
  );
}
