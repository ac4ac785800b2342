import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { AdminSessionView } from '../admin/admin_deps.js';
import type { AuditLog } from '../audit/audit_log.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Store } from '../store/store.js';

/** How often the feed sends counters, sessions and new audit events. */
export const FEED_INTERVAL_MS = 1000;

/** Most audit events sent in one tick; the rest follow on the next. */
const AUDIT_BATCH = 200;

/** Most live sessions sent per tick: the page is for looking, `GET /admin/sessions` for exporting. */
export const SESSIONS_SENT = 500;

/** Counters since the server started; the page turns two snapshots into rates. */
export interface StatsSnapshot {
  at: number;
  sessions_open: number;
  connects_accepted: number;
  /** Refused CONNECTs by reason (bad credentials, disabled, …). */
  connects_refused: Record<string, number>;
  tokens_issued: number;
  token_refusals: number;
  denials: number;
  broker_disconnects: number;
}

export interface LiveFeedDeps {
  metrics: Metrics;
  store: Store;
  audit: AuditLog;
  broker: { sessions(): AdminSessionView[] };
  /** Is the session behind this stream still live (not idle, not logged out, user still allowed)? */
  stillAllowed(request: FastifyRequest): boolean;
}

/**
 * The console's Server-Sent Events stream (`GET /console/api/events`):
 * every second a `stats` event (counters), a `sessions` event (live
 * sessions) and `audit` events (new rows, from this process and the CLI
 * alike). It ends when the session does, and when the server closes.
 */
export class LiveFeed {
  readonly #streams = new Set<ServerResponse>();

  constructor(private readonly deps: LiveFeedDeps) {}

  /** Takes over the reply and streams until the client leaves or the session ends. */
  open(request: FastifyRequest, reply: FastifyReply, headers: Record<string, string>): void {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    this.#streams.add(res);
    // Start the tail a little back, so the page opens on the latest events.
    this.deps.audit.flush();
    let lastId = Math.max(0, this.deps.store.audit.lastId() - 50);
    let busy = false;
    const tick = async (): Promise<void> => {
      if (busy || res.writableEnded) return;
      busy = true;
      try {
        if (!this.deps.stillAllowed(request)) {
          res.end('event: ended\ndata: {}\n\n');
          return;
        }
        send(res, 'stats', await this.snapshot());
        send(res, 'sessions', this.deps.broker.sessions().slice(0, SESSIONS_SENT));
        this.deps.audit.flush();
        const events = this.deps.store.audit.after(lastId, AUDIT_BATCH);
        if (events.length > 0) {
          lastId = events[events.length - 1]!.id;
          send(res, 'audit', events.map(({ id: _id, ...e }) => ({ ...e, at: new Date(e.at).toISOString() })));
        }
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(() => void tick().catch(() => res.end()), FEED_INTERVAL_MS);
    void tick().catch(() => res.end());
    res.on('close', () => {
      clearInterval(timer);
      this.#streams.delete(res);
    });
  }

  async snapshot(): Promise<StatsSnapshot> {
    const { metrics } = this.deps;
    const sum = async (metric: { get(): Promise<{ values: { value: number; labels: Record<string, string | number> }[] }> }, keep: (labels: Record<string, string | number>) => boolean = () => true) =>
      (await metric.get()).values.filter((v) => keep(v.labels)).reduce((total, v) => total + v.value, 0);
    const refused: Record<string, number> = {};
    for (const v of (await metrics.connects.get()).values) {
      if (v.labels.outcome === 'refused') refused[String(v.labels.reason)] = (refused[String(v.labels.reason)] ?? 0) + v.value;
    }
    return {
      at: Date.now(),
      sessions_open: await sum(metrics.sessionsOpen),
      connects_accepted: await sum(metrics.connects, (l) => l.outcome === 'accepted'),
      connects_refused: refused,
      tokens_issued: await sum(metrics.tokensIssued),
      token_refusals: await sum(metrics.tokenRequestsRefused),
      denials: await sum(metrics.denials),
      broker_disconnects: await sum(metrics.brokerDisconnects),
    };
  }

  /** Ends every stream (the server is closing: an open stream would hold it up). */
  close(): void {
    for (const res of this.#streams) res.end();
    this.#streams.clear();
  }
}

function send(res: ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}
