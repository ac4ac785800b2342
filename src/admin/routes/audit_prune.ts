import type { FastifyInstance } from 'fastify';
import { pruneAuditEvents } from '../../audit/audit_prune.js';
import { formatDuration } from '../../config/duration.js';
import type { AdminContext } from '../admin_deps.js';
import { ERROR_RESPONSES, secured } from '../schemas.js';

/** `POST /admin/audit/prune`: delete audit events older than a number of seconds, as `latchkey audit prune`. */
export function registerAuditPruneRoutes(app: FastifyInstance, { deps, caller }: AdminContext): void {
  app.post<{ Body: { older_than: number; label?: string } }>(
    '/audit/prune',
    {
      schema: {
        summary: 'Delete audit events older than older_than seconds',
        tags: ['audit'],
        ...secured('write'),
        body: {
          type: 'object',
          properties: {
            older_than: { type: 'integer', minimum: 0, maximum: 3_153_600_000, description: 'seconds' },
            label: { type: 'string', maxLength: 32, pattern: '^[0-9]+[smhdw]?$', description: 'how the operator wrote it (90d), for the audit trail' },
          },
          required: ['older_than'],
          additionalProperties: false,
        },
        response: { 200: { type: 'object', properties: { deleted: { type: 'integer' } } }, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { older_than, label } = request.body;
      return pruneAuditEvents(deps.store, deps.audit, older_than, label ?? formatDuration(older_than), caller(request).actor);
    },
  );
}
