import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../log/logger.js';
import { LIVE_SESSION_HEARTBEAT_MS as HEARTBEAT_MS, LIVE_SESSION_STALE_MS as STALE_AFTER_MS, type LiveSessionRecord } from '../store/live_sessions.js';
import type { Store } from '../store/store.js';
import type { Session } from './session.js';

/** Longest a session change waits before it is written. */
const FLUSH_INTERVAL_MS = 200;

/**
 * Publishes this process's live sessions into the store so the CLI (another
 * process) and, later, other nodes can see them. Off the hot path: a connect,
 * disconnect or subscription change only marks the client id dirty; a timer
 * writes what changed, at most every {@link FLUSH_INTERVAL_MS}, in one
 * transaction, reading each dirty session's current state at that moment
 * (so a connect and disconnect in between cost nothing).
 *
 * Each process has a random instance id and owns only its rows. At start it
 * removes the rows of dead processes (no heartbeat for `LIVE_SESSION_STALE_MS`);
 * at a clean stop, its own.
 */
export class LiveSessionPublisher {
  readonly instance: string;
  readonly #startedAt = Date.now();
  readonly #dirty = new Set<string>();
  #flushTimer: NodeJS.Timeout | null = null;
  #heartbeat: NodeJS.Timeout | null = null;
  #running = false;

  constructor(
    private readonly store: Store,
    private readonly current: (clientId: string) => Session | undefined,
    private readonly all: () => Iterable<Session>,
    private readonly log: Logger,
    /** The node's id (the Aedes id too); random when not given. */
    instance: string = randomBytes(8).toString('hex'),
  ) {
    this.instance = instance;
  }

  start(): void {
    this.#running = true;
    this.#beat(Date.now());
    this.#heartbeat = setInterval(() => this.#beat(Date.now()), HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  /** Removes this instance and its rows (a clean shutdown): nothing pending is worth writing then. */
  stop(): void {
    this.#running = false;
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#heartbeat = this.#flushTimer = null;
    this.#dirty.clear();
    if (!this.store.db.open) return;
    try {
      this.store.liveSessions.dropInstance(this.instance);
    } catch (err) {
      // Busy at shutdown: the rows go stale and the next server deletes them.
      this.log.warn({ err: (err as Error).message }, 'removing live sessions at shutdown failed');
    }
  }

  /** A session appeared, ended, renewed or changed its subscriptions. */
  touch(clientId: string): void {
    if (!this.#running) return;
    this.#dirty.add(clientId);
    if (!this.#flushTimer) {
      this.#flushTimer = setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
      this.#flushTimer.unref();
    }
  }

  /** Writes every pending change now (the timer, and readers in this process that want their own writes). */
  flush(): void {
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
    if (this.#dirty.size === 0 || !this.store.db.open) return;
    const upserts: LiveSessionRecord[] = [];
    const removals: string[] = [];
    for (const clientId of this.#dirty) {
      const session = this.current(clientId);
      if (session && !session.ending) upserts.push(this.#record(session));
      else removals.push(clientId);
    }
    this.#dirty.clear();
    try {
      this.store.liveSessions.applyBatch(this.instance, upserts, removals);
    } catch (err) {
      // A busy store must not take sessions down; the next change or heartbeat tries again.
      this.log.warn({ err }, 'publishing live sessions failed');
      for (const id of [...removals, ...upserts.map((u) => u.clientId)]) this.touch(id);
    }
  }

  #beat(now: number): void {
    if (!this.store.db.open) return;
    try {
      const known = this.store.liveSessions.heartbeat({ instance: this.instance, host: hostname(), pid: process.pid, startedAt: this.#startedAt }, now);
      // Taken for dead after a stall and deleted: publish every session again.
      if (!known) for (const session of this.all()) this.touch(session.clientId);
      const dropped = this.store.liveSessions.dropStale(now - STALE_AFTER_MS);
      if (dropped > 0) this.log.info({ dropped }, 'removed live sessions of server processes that stopped without a goodbye');
    } catch (err) {
      this.log.warn({ err }, 'live session heartbeat failed');
    }
  }

  #record(session: Session): LiveSessionRecord {
    const exp = session.credential.exp;
    return {
      instance: this.instance,
      clientId: session.clientId,
      principal: session.principal.name,
      kind: session.principal.kind,
      method: session.credential.method,
      credentialId: session.credential.id,
      remote: session.remote,
      connectedAt: session.connectedAt,
      expiresAt: Number.isFinite(exp) ? Math.round(exp * 1000) : null,
      subscriptions: subscriptionsOf(session),
    };
  }
}

/** The filters the session holds now (Aedes keeps them on the client). */
export function subscriptionsOf(session: Session): string[] {
  return Object.keys((session.client as unknown as { subscriptions?: Record<string, unknown> }).subscriptions ?? {});
}
