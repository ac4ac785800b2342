import type { FastifyInstance } from 'fastify';
import type { AdminContext } from '../admin_deps.js';
import { ERROR_RESPONSES, NAME, secured, TIME } from '../schemas.js';

const CERTIFICATE_VIEW = {
  type: 'object',
  properties: {
    serial: { type: 'string' },
    client_id: { type: 'string' },
    issuer: { type: 'string' },
    fingerprint: { type: 'string', description: 'x5t#S256' },
    not_before: TIME,
    not_after: TIME,
    created_at: TIME,
    revoked_at: { type: ['string', 'null'], format: 'date-time' },
    status: { type: 'string', enum: ['valid', 'expired', 'revoked'] },
  },
} as const;

/**
 * `/admin/certificates`: list device certificates, issue one from a
 * device's CSR (the key never leaves the device), and revoke one by serial
 * (live sessions using it end within a second).
 */
export function registerCertificateRoutes(app: FastifyInstance, { deps, caller }: AdminContext): void {
  app.get<{ Querystring: { client_id?: string } }>(
    '/certificates',
    {
      schema: {
        summary: 'List device certificates, newest first',
        tags: ['certificates'],
        ...secured('read'),
        querystring: { type: 'object', properties: { client_id: NAME }, additionalProperties: false },
        response: { 200: { type: 'object', properties: { certificates: { type: 'array', items: CERTIFICATE_VIEW } } }, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      return { certificates: deps.certificates.list(request.query.client_id) };
    },
  );

  app.post<{ Body: { client_id: string; csr?: string; days?: number } }>(
    '/certificates',
    {
      schema: {
        summary: 'Issue a device certificate (CN = client id) from a PKCS #10 CSR, or with a new key returned once (as `cert issue` without --csr)',
        tags: ['certificates'],
        ...secured('write'),
        body: {
          type: 'object',
          properties: {
            client_id: NAME,
            csr: { type: 'string', minLength: 1, maxLength: 8192, description: 'PEM "CERTIFICATE REQUEST" whose CN is the client id' },
            days: { type: 'integer', minimum: 1, maximum: 3650, default: 365 },
          },
          required: ['client_id'],
          additionalProperties: false,
        },
        response: {
          201: {
            type: 'object',
            properties: {
              serial: { type: 'string' },
              client_id: { type: 'string' },
              cert: { type: 'string', description: 'PEM' },
              ca: { type: 'string', description: 'the CA certificate, PEM' },
              fingerprint: { type: 'string' },
              key: { type: 'string', description: 'PEM PKCS #8 private key, only when no CSR was sent: shown once, never stored' },
              not_before: TIME,
              not_after: TIME,
            },
          },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request, reply) => {
      const { actor } = caller(request);
      const { client_id, csr, days } = request.body;
      const issued = await deps.certificates.issue(client_id, { ...(csr !== undefined ? { csrPem: csr } : {}), ...(days !== undefined ? { days } : {}) }, actor);
      return reply.code(201).header('cache-control', 'no-store').send({
        ...(issued.keyPem ? { key: issued.keyPem } : {}),
        serial: issued.serial,
        client_id: issued.clientId,
        cert: issued.certPem,
        ca: issued.caPem,
        fingerprint: issued.fingerprint,
        not_before: issued.notBefore.toISOString(),
        not_after: issued.notAfter.toISOString(),
      });
    },
  );

  app.post<{ Params: { serial: string } }>(
    '/certificates/:serial/revoke',
    {
      schema: {
        summary: 'Revoke a device certificate; live sessions using it end',
        tags: ['certificates', 'revocations'],
        ...secured('write'),
        params: { type: 'object', properties: { serial: { type: 'string', pattern: '^[0-9A-Fa-f:]{1,80}$' } }, required: ['serial'] },
        response: {
          200: { type: 'object', properties: { serial: { type: 'string' }, client_id: { type: 'string' }, already_revoked: { type: 'boolean' } } },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request) => {
      const { actor } = caller(request);
      return deps.certificates.revoke(request.params.serial, actor);
    },
  );
}
