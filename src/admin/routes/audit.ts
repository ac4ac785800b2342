import type { FastifyInstance } from 'fastify';
import { parseDuration } from '../../config/duration.js';
import { LatchkeyError } from '../../errors/latchkey_error.js';
import type { AdminContext } from '../admin_deps.js';
import { ERROR_RESPONSES, secured, TIME } from '../schemas.js';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

const WHEN = { type: 'string', maxLength: 64, description: 'an ISO 8601 time, or a duration back from now (30m, 1h, 7d)' } as const;

const EVENT_VIEW = {
  type: 'object',
  properties: {
    at: TIME,
    event: { type: 'string' },
    principal: { type: ['string', 'null'] },
    outcome: { type: 'string', enum: ['success', 'failure', 'denied'] },
    reason: { type: ['string', 'null'] },
    remote: { type: ['string', 'null'] },
    detail: { type: ['object', 'null'], additionalProperties: true },
    count: { type: 'integer', description: 'events this row stands for (aggregated denials and refused CONNECTs); detail.samples holds up to 5' },
  },
} as const;

interface AuditQuerystring {
  principal?: string;
  event?: string;
  since?: string;
  until?: string;
  limit?: number;
}

/** `GET /admin/audit`: audit events, newest first, filtered by principal, event and time. */
export function registerAuditRoutes(app: FastifyInstance, { deps }: AdminContext): void {
  app.get<{ Querystring: AuditQuerystring }>(
    '/audit',
    {
      schema: {
        summary: 'Audit events, newest first',
        tags: ['audit'],
        ...secured('read'),
        querystring: {
          type: 'object',
          properties: {
            principal: { type: 'string', maxLength: 128, description: 'a client id, user name or API key name' },
            event: { type: 'string', maxLength: 128, description: 'e.g. mqtt.connect, token.issued, pat.revoked' },
            since: WHEN,
            until: WHEN,
            limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
          },
          additionalProperties: false,
        },
        response: { 200: { type: 'object', properties: { events: { type: 'array', items: EVENT_VIEW } } }, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const q = request.query;
      const now = Date.now();
      // Events recorded in this tick are still buffered; the caller should see them.
      deps.audit.flush();
      const events = deps.store.audit.query({
        limit: q.limit ?? DEFAULT_LIMIT,
        ...(q.principal !== undefined ? { principal: q.principal } : {}),
        ...(q.event !== undefined ? { event: q.event } : {}),
        ...(q.since !== undefined ? { since: parseInstant(q.since, now, 'since') } : {}),
        ...(q.until !== undefined ? { until: parseInstant(q.until, now, 'until') } : {}),
      });
      return { events: events.map((e) => ({ ...e, at: new Date(e.at).toISOString(), count: e.count ?? 1 })) };
    },
  );
}

/**
 * An instant, milliseconds: an ISO 8601 time, or a duration back from now.
 *
 * @example parseInstant('1h', Date.now(), 'since') // an hour ago
 */
export function parseInstant(text: string, now: number, what: string): number {
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const at = Date.parse(text);
    if (Number.isNaN(at)) throw new LatchkeyError('invalid_argument', `${what} "${text}" is not a valid time`);
    return at;
  }
  return now - parseDuration(text) * 1000;
}
