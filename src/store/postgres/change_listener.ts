/**
 * Hears every change committed to the PostgreSQL store, by any node or CLI:
 * the `changes` table's trigger NOTIFYs on {@link CHANGES_CHANNEL} at commit,
 * and this one async connection LISTENs. A notification empties the read
 * cache and moves `dataVersion`, which the change watcher polls in memory;
 * it then reads the feed by id, so nothing is missed across a reconnect.
 *
 * While disconnected the cache is off (every read goes to PostgreSQL); on
 * reconnecting, the version moves once so the watcher re-reads the feed.
 */
import pg from 'pg';
import { CHANGES_CHANNEL } from './schema.js';

export interface ChangeListenerTarget {
  changedElsewhere(): void;
  setCacheEnabled(enabled: boolean): void;
}

/** Delay before reconnecting a lost listener; doubles up to {@link MAX_RETRY_MS}. */
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

export class ChangeListener {
  #client: pg.Client | null = null;
  #stopped = false;
  #retryMs = FIRST_RETRY_MS;
  #timer: NodeJS.Timeout | null = null;
  #connected: Promise<void> | null = null;

  constructor(
    private readonly url: string,
    private readonly target: ChangeListenerTarget,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {}

  /** Connects and LISTENs; resolves once listening (or after the first failure, retrying in the background). */
  start(): Promise<void> {
    this.#connected ??= this.#connect();
    return this.#connected;
  }

  get listening(): boolean {
    return this.#client !== null;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = null;
    this.target.setCacheEnabled(false);
    await client?.end().catch(() => undefined);
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 5_000, keepAlive: true });
    client.on('notification', (message) => {
      if (message.channel === CHANGES_CHANNEL) this.target.changedElsewhere();
    });
    client.on('error', (err) => this.#lost(client, err));
    client.on('end', () => this.#lost(client, new Error('the change listener connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (err) {
      client.end().catch(() => undefined);
      this.#retry(err as Error);
      return;
    }
    if (this.#stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
    this.#retryMs = FIRST_RETRY_MS;
    this.target.setCacheEnabled(true);
    // Whatever committed while nobody listened is read now: the watcher reads the feed by id.
    this.target.changedElsewhere();
  }

  #lost(client: pg.Client, err: Error): void {
    if (this.#client !== client) return;
    this.#client = null;
    this.target.setCacheEnabled(false);
    client.end().catch(() => undefined);
    this.#retry(err);
  }

  #retry(err: Error): void {
    if (this.#stopped) return;
    this.onError(err);
    this.#timer = setTimeout(() => void this.#connect(), this.#retryMs);
    this.#timer.unref();
    this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
  }
}
