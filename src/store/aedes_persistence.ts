/**
 * A durable Aedes 1.2 persistence on the shared better-sqlite3 database:
 * retained messages, persistent sessions (clean=false subscriptions), QoS 1/2
 * messages queued for offline clients, in-flight outgoing packets, incoming
 * QoS 2 packets awaiting PUBREL, and wills.
 *
 * Every write is committed before its promise resolves (better-sqlite3 is
 * synchronous), so when Aedes acknowledges a PUBLISH the message is in the
 * database. Under WAL with synchronous=NORMAL a committed transaction survives
 * kill -9 of the process; only an OS crash or power loss can lose the last
 * few commits (docs/INTERFACE.md#durability asks kill -9 for retained messages).
 */
import type { Database } from 'better-sqlite3';
import { Readable } from 'node:stream';
import { levelsMatch, startsWithDollar } from '../policy/topic.js';
import { decodePacket, encodePacket, type PersistedPacket } from './aedes_persistence/packet_codec.js';
import { ClientHints } from './aedes_persistence/client_hints.js';
import { queuedCopy } from './aedes_persistence/packet_copy.js';
import type { AedesPersistence, BrokerLike, PersistenceClient, PersistenceSubscription } from './aedes_persistence/persistence_interface.js';
import { SubscriptionIndex, type IndexedSubscription } from './aedes_persistence/subscription_index.js';

export type { PersistedPacket } from './aedes_persistence/packet_codec.js';
export type { AedesPersistence, PersistenceClient, PersistenceSubscription } from './aedes_persistence/persistence_interface.js';

/**
 * The tables, for the migration runner. `packet` columns hold JSON of every
 * field but the payload; `payload` columns hold the payload as a BLOB (or
 * TEXT when Aedes handed us a string), see packet_codec.ts.
 */
export const AEDES_PERSISTENCE_SCHEMA = `
CREATE TABLE IF NOT EXISTS aedes_retained (
  topic TEXT PRIMARY KEY,
  packet TEXT NOT NULL,
  payload BLOB
);
CREATE TABLE IF NOT EXISTS aedes_subscriptions (
  client_id TEXT NOT NULL,
  topic TEXT NOT NULL,
  qos INTEGER NOT NULL,
  options TEXT NOT NULL,
  PRIMARY KEY (client_id, topic)
);
CREATE INDEX IF NOT EXISTS aedes_subscriptions_by_topic ON aedes_subscriptions (topic);
CREATE TABLE IF NOT EXISTS aedes_outgoing (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  client_id TEXT NOT NULL,
  broker_id TEXT,
  broker_counter INTEGER,
  message_id INTEGER,
  packet TEXT NOT NULL,
  payload BLOB
);
CREATE INDEX IF NOT EXISTS aedes_outgoing_by_client ON aedes_outgoing (client_id, seq);
CREATE TABLE IF NOT EXISTS aedes_incoming (
  client_id TEXT NOT NULL,
  message_id INTEGER NOT NULL,
  packet TEXT NOT NULL,
  payload BLOB,
  PRIMARY KEY (client_id, message_id)
);
CREATE TABLE IF NOT EXISTS aedes_wills (
  client_id TEXT PRIMARY KEY,
  broker_id TEXT,
  packet TEXT NOT NULL,
  payload BLOB
);
`;

const CLIENT_TABLES = ['aedes_subscriptions', 'aedes_outgoing', 'aedes_incoming', 'aedes_wills'] as const;

/**
 * Whether an MQTT client id is one a principal's sessions use: its name, or
 * (people and integrations) its name + `@` + a suffix. Names are unique
 * across clients, users and API keys, and no device id contains `@`.
 *
 * @example isSessionOf('alice', 'alice@laptop') // true
 */
export function isSessionOf(principal: string, clientId: string): boolean {
  return clientId === principal || clientId.startsWith(`${principal}@`);
}

/**
 * Deletes every row kept for a principal's MQTT sessions (see
 * {@link isSessionOf}): subscriptions, queued messages, QoS 2 state and
 * wills. For a deleted client, user or API key, so a later one of the same
 * name starts with no session (run it inside the deletion's transaction). A
 * running broker must also drop its in-memory index:
 * {@link SqlitePersistence.forgetPrincipal}.
 *
 * @example store.durably(() => { store.clients.delete(id); store.forgetPersistedSessions(id); })
 */
export function forgetPersistedSessions(db: Database, principal: string): void {
  for (const table of CLIENT_TABLES) {
    db.prepare(`DELETE FROM ${table} WHERE client_id = ? OR substr(client_id, 1, ?) = ?`).run(principal, principal.length + 1, `${principal}@`);
  }
}

export interface SqlitePersistenceOptions {
  /** Rows read per query while streaming a client's queue (default 256): bounds memory for long queues. */
  pageSize?: number;
}

interface PacketRow {
  packet: string;
  payload: Buffer | string | null;
}
interface OutgoingRow extends PacketRow {
  seq: number;
  broker_id: string | null;
}
interface SubscriptionRow {
  client_id: string;
  topic: string;
  qos: number;
  options: string;
}

/** Subscription options kept beside the QoS; only those present are stored. */
type SubscriptionOptions = Omit<PersistenceSubscription, 'topic' | 'qos'>;

/**
 * Creates the persistence. The schema ({@link AEDES_PERSISTENCE_SCHEMA}) must
 * already exist; the database stays open when the persistence is destroyed,
 * since the rest of latchkey shares it.
 *
 * @example
 * const broker = await Aedes.createBroker({ persistence: createSqlitePersistence(db) });
 */
export function createSqlitePersistence(db: Database, opts: SqlitePersistenceOptions = {}): SqlitePersistence {
  return new SqlitePersistence(db, opts);
}

/** Prepares every statement once; `setup` and the methods only bind and run them. */
function prepareStatements(db: Database) {
  return {
    retainedUpsert: db.prepare<[string, string, Buffer | string | null]>(
      `INSERT INTO aedes_retained (topic, packet, payload) VALUES (?, ?, ?)
       ON CONFLICT (topic) DO UPDATE SET packet = excluded.packet, payload = excluded.payload`,
    ),
    retainedDelete: db.prepare<[string]>('DELETE FROM aedes_retained WHERE topic = ?'),
    retainedGet: db.prepare<[string], PacketRow>('SELECT packet, payload FROM aedes_retained WHERE topic = ?'),
    retainedTopicsAll: db.prepare<[], string>('SELECT topic FROM aedes_retained ORDER BY topic').pluck(),
    retainedTopicsRange: db
      .prepare<[string, string], string>('SELECT topic FROM aedes_retained WHERE topic >= ? AND topic < ? ORDER BY topic')
      .pluck(),

    // ON CONFLICT ... DO UPDATE keeps the rowid, so a re-subscribe keeps its place in subscriptionsByClient.
    subscriptionUpsert: db.prepare<[string, string, number, string]>(
      `INSERT INTO aedes_subscriptions (client_id, topic, qos, options) VALUES (?, ?, ?, ?)
       ON CONFLICT (client_id, topic) DO UPDATE SET qos = excluded.qos, options = excluded.options`,
    ),
    subscriptionDelete: db.prepare<[string, string]>('DELETE FROM aedes_subscriptions WHERE client_id = ? AND topic = ?'),
    subscriptionsDeleteClient: db.prepare<[string]>('DELETE FROM aedes_subscriptions WHERE client_id = ?'),
    subscriptionsOfClient: db.prepare<[string], SubscriptionRow>(
      'SELECT client_id, topic, qos, options FROM aedes_subscriptions WHERE client_id = ? ORDER BY rowid',
    ),
    subscriptionsQos1Plus: db.prepare<[], SubscriptionRow>(
      'SELECT client_id, topic, qos, options FROM aedes_subscriptions WHERE qos > 0 ORDER BY rowid',
    ),
    subscriptionCounts: db.prepare<[], { subsCount: number; clientsCount: number }>(
      `SELECT COALESCE(SUM(qos > 0), 0) AS subsCount, COUNT(DISTINCT client_id) AS clientsCount
       FROM aedes_subscriptions`,
    ),
    clientsOfTopic: db
      .prepare<[string], string>('SELECT client_id FROM aedes_subscriptions WHERE topic = ? ORDER BY rowid')
      .pluck(),

    outgoingInsert: db.prepare<[string, string | null, number | null, number | null, string, Buffer | string | null]>(
      `INSERT INTO aedes_outgoing (client_id, broker_id, broker_counter, message_id, packet, payload)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    outgoingLastSeq: db
      .prepare<[string], number | null>('SELECT MAX(seq) FROM aedes_outgoing WHERE client_id = ?')
      .pluck(),
    outgoingPage: db.prepare<[string, number, number, number], OutgoingRow>(
      `SELECT seq, broker_id, packet, payload FROM aedes_outgoing
       WHERE client_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?`,
    ),
    // The first queued row that `packet` updates: the same message from the same broker (matched by
    // brokerCounter, as messageIds wrap at 65535), or, from another broker, the same messageId.
    outgoingFindForUpdate: db.prepare<[string, string | null, number | null, string | null, number | null], OutgoingRow>(
      `SELECT seq, broker_id, packet, payload FROM aedes_outgoing
       WHERE client_id = ?
         AND ((broker_id IS ? AND broker_counter IS ?) OR (broker_id IS NOT ? AND message_id IS ?))
       ORDER BY seq LIMIT 1`,
    ),
    outgoingSetMessageId: db.prepare<[number | null, string, number]>(
      'UPDATE aedes_outgoing SET message_id = ?, packet = ? WHERE seq = ?',
    ),
    outgoingReplace: db.prepare<[string | null, number | null, number | null, string, Buffer | string | null, number]>(
      `UPDATE aedes_outgoing SET broker_id = ?, broker_counter = ?, message_id = ?, packet = ?, payload = ?
       WHERE seq = ?`,
    ),
    outgoingClear: db.prepare<[string, number], PacketRow>(
      `DELETE FROM aedes_outgoing WHERE seq =
         (SELECT seq FROM aedes_outgoing WHERE client_id = ? AND message_id = ? ORDER BY seq LIMIT 1)
       RETURNING packet, payload`,
    ),

    incomingUpsert: db.prepare<[string, number, string, Buffer | string | null]>(
      `INSERT INTO aedes_incoming (client_id, message_id, packet, payload) VALUES (?, ?, ?, ?)
       ON CONFLICT (client_id, message_id) DO UPDATE SET packet = excluded.packet, payload = excluded.payload`,
    ),
    incomingGet: db.prepare<[string, number], PacketRow>(
      'SELECT packet, payload FROM aedes_incoming WHERE client_id = ? AND message_id = ?',
    ),
    incomingDelete: db.prepare<[string, number]>('DELETE FROM aedes_incoming WHERE client_id = ? AND message_id = ?'),
    incomingDeleteClient: db.prepare<[string]>('DELETE FROM aedes_incoming WHERE client_id = ?'),

    willUpsert: db.prepare<[string, string | null, string, Buffer | string | null]>(
      `INSERT INTO aedes_wills (client_id, broker_id, packet, payload) VALUES (?, ?, ?, ?)
       ON CONFLICT (client_id) DO UPDATE SET
         broker_id = excluded.broker_id, packet = excluded.packet, payload = excluded.payload`,
    ),
    willGet: db.prepare<[string], PacketRow>('SELECT packet, payload FROM aedes_wills WHERE client_id = ?'),
    willDelete: db.prepare<[string]>('DELETE FROM aedes_wills WHERE client_id = ?'),
    willsAll: db.prepare<[], PacketRow & { broker_id: string | null }>(
      'SELECT broker_id, packet, payload FROM aedes_wills ORDER BY rowid',
    ),
  };
}

/**
 * The Aedes 1.2 persistence interface (promise-returning methods, Readable
 * streams), backed by SQLite. Use {@link createSqlitePersistence}.
 */
export class SqlitePersistence implements AedesPersistence {
  readonly #db: Database;
  readonly #sql: ReturnType<typeof prepareStatements>;
  readonly #pageSize: number;
  readonly #index = new SubscriptionIndex();
  readonly #hints: ClientHints;
  #broker: BrokerLike | undefined;
  #destroyed = false;

  constructor(db: Database, opts: SqlitePersistenceOptions = {}) {
    this.#db = db;
    this.#sql = prepareStatements(db);
    this.#pageSize = opts.pageSize ?? 256;
    this.#hints = new ClientHints(db);
  }

  /** The broker given to `setup` (the abstract test suite reads it). */
  get broker(): BrokerLike | undefined {
    return this.#broker;
  }

  /** Aedes calls this once at start (and checks it is an async function); loads the subscription index. */
  async setup(broker: BrokerLike): Promise<void> {
    this.#broker = broker;
    for (const row of this.#sql.subscriptionsQos1Plus.all()) this.#index.add(indexedFromRow(row));
  }

  // ---- retained messages ----

  /** [MQTT-3.3.1-5] keeps the last retained message per topic; an empty payload removes it [MQTT-3.3.1-10]. */
  async storeRetained(packet: PersistedPacket): Promise<void> {
    const topic = packet.topic ?? '';
    if (!packet.payload || packet.payload.length === 0) {
      this.#sql.retainedDelete.run(topic);
      return;
    }
    const row = encodePacket({ ...packet });
    this.#sql.retainedUpsert.run(topic, row.packet, row.payload);
  }

  /** Retained messages matching any of the filters, each once, for a SUBSCRIBE. */
  createRetainedStreamCombi(patterns: string[]): Readable {
    return Readable.from(this.#retainedMatching(patterns));
  }

  /** Deprecated single-filter form of {@link createRetainedStreamCombi}. */
  createRetainedStream(pattern: string): Readable {
    return this.createRetainedStreamCombi([pattern]);
  }

  // Rows are fetched one at a time between yields: better-sqlite3 refuses writes while a
  // statement iterator is open, and the consumer writes (delivers, updates) as it reads.
  *#retainedMatching(patterns: string[]): Generator<PersistedPacket> {
    const delivered = new Set<string>();
    for (const pattern of patterns) {
      const filter = pattern.split('/');
      for (const topic of this.#retainedCandidates(pattern)) {
        if (delivered.has(topic) || !levelsMatch(filter, topic.split('/'), startsWithDollar(topic))) continue;
        const row = this.#sql.retainedGet.get(topic);
        if (!row) continue;
        delivered.add(topic);
        yield decodePacket(row.packet, row.payload);
      }
    }
  }

  /**
   * Topics that may match `pattern`, read from the primary key only. Every
   * match starts with the filter's levels before its first wildcard, so only
   * that key range is read: [prefix, prefix + '0') holds the prefix itself
   * (which 'a/#' matches) and everything under 'prefix/', since '0' sorts
   * right after '/'.
   */
  #retainedCandidates(pattern: string): string[] {
    const levels = pattern.split('/');
    const firstWildcard = levels.findIndex((level) => level === '+' || level === '#');
    if (firstWildcard === -1) return [pattern];
    if (firstWildcard === 0) return this.#sql.retainedTopicsAll.all();
    const prefix = levels.slice(0, firstWildcard).join('/');
    return this.#sql.retainedTopicsRange.all(prefix, `${prefix}0`);
  }

  // ---- persistent subscriptions ----

  /** Stores a clean=false client's SUBSCRIBE; a later entry for the same filter replaces an earlier one. */
  async addSubscriptions(client: PersistenceClient, subs: PersistenceSubscription[]): Promise<void> {
    this.#db.transaction(() => {
      for (const sub of subs) {
        this.#sql.subscriptionUpsert.run(client.id, sub.topic, sub.qos, JSON.stringify(optionsOf(sub)));
      }
    })();
    this.#hints.wrote('aedes_subscriptions', client.id);
    // The index follows the committed rows; QoS 0 subscriptions get no offline copies [MQTT-3.1.2-5].
    for (const sub of subs) {
      if (sub.qos > 0) this.#index.add({ clientId: client.id, ...indexedOptions(sub) });
      else this.#index.remove(client.id, sub.topic);
    }
  }

  /** Removes the given filters (UNSUBSCRIBE). */
  async removeSubscriptions(client: PersistenceClient, topics: string[]): Promise<void> {
    this.#db.transaction(() => {
      for (const topic of topics) this.#sql.subscriptionDelete.run(client.id, topic);
    })();
    for (const topic of topics) this.#index.remove(client.id, topic);
  }

  /** The session's subscriptions, restored on a clean=false CONNECT. */
  async subscriptionsByClient(client: PersistenceClient): Promise<PersistenceSubscription[]> {
    return this.#sql.subscriptionsOfClient.all(client.id).map((row) => ({
      topic: row.topic,
      qos: row.qos,
      ...(JSON.parse(row.options) as SubscriptionOptions),
    }));
  }

  /** QoS>0 subscriptions and clients with any persistent subscription. */
  async countOffline(): Promise<{ subsCount: number; clientsCount: number }> {
    const counts = this.#sql.subscriptionCounts.get();
    return { subsCount: counts?.subsCount ?? 0, clientsCount: counts?.clientsCount ?? 0 };
  }

  /** Persistent QoS>0 subscriptions matching a PUBLISH topic, from the in-memory index. */
  async subscriptionsByTopic(topic: string): Promise<IndexedSubscription[]> {
    return this.#index.match(topic);
  }

  /** Drops a session's subscriptions (clean=true CONNECT). */
  async cleanSubscriptions(client: PersistenceClient): Promise<void> {
    if (!this.#hints.mayHave('aedes_subscriptions', client.id)) return;
    const topics = this.#sql.subscriptionsOfClient.all(client.id).map((row) => row.topic);
    this.#sql.subscriptionsDeleteClient.run(client.id);
    for (const topic of topics) this.#index.remove(client.id, topic);
    this.#hints.cleared('aedes_subscriptions', client.id);
  }

  /**
   * Forgets a deleted principal's sessions ({@link isSessionOf}), rows and
   * in-memory index alike, so nothing more is queued for them and a later
   * principal of the same name does not resume them. Idempotent.
   */
  async forgetPrincipal(principal: string): Promise<void> {
    this.#db.transaction(() => forgetPersistedSessions(this.#db, principal))();
    // From the index itself: the deleting process may have removed the rows already.
    this.#index.removeClients((clientId) => isSessionOf(principal, clientId));
    for (const table of CLIENT_TABLES) this.#hints.cleared(table, principal);
  }

  /** Client ids with a persistent subscription to exactly this filter. */
  getClientList(topic: string): Readable {
    return Readable.from(this.#sql.clientsOfTopic.all(topic));
  }

  // ---- outgoing queue (offline messages and in-flight QoS 1/2) ----

  /** Deprecated single-subscription form of {@link outgoingEnqueueCombi}. */
  async outgoingEnqueue(sub: { clientId: string }, packet: PersistedPacket): Promise<void> {
    await this.outgoingEnqueueCombi([sub], packet);
  }

  /** Queues one copy of the message per subscribed client, in one transaction. */
  async outgoingEnqueueCombi(subs: { clientId: string }[], packet: PersistedPacket): Promise<void> {
    // Aedes calls this for every QoS > 0 publish, with no subscriber offline most of the time.
    if (subs.length === 0) return;
    const copy = queuedCopy(packet);
    const row = encodePacket(copy);
    this.#db.transaction(() => {
      for (const sub of subs) {
        this.#sql.outgoingInsert.run(
          sub.clientId,
          copy.brokerId ?? null,
          copy.brokerCounter ?? null,
          copy.messageId ?? null,
          row.packet,
          row.payload,
        );
      }
    })();
    for (const sub of subs) this.#hints.wrote('aedes_outgoing', sub.clientId);
  }

  /**
   * Records the packet identifier Aedes assigned when sending a queued
   * message, or replaces the queued PUBLISH by its PUBREL once PUBREC arrives
   * [MQTT-4.3.3-1], so a restart resumes the QoS 2 flow where it stopped.
   */
  async outgoingUpdate(client: PersistenceClient, packet: PersistedPacket): Promise<void> {
    const brokerId = packet.brokerId ?? null;
    const messageId = packet.messageId ?? null;
    const row = this.#sql.outgoingFindForUpdate.get(client.id, brokerId, packet.brokerCounter ?? null, brokerId, messageId);
    if (!row) throw new Error('no such packet');
    if (row.broker_id === brokerId) {
      const queued = decodePacket(row.packet, row.payload);
      queued.messageId = packet.messageId;
      this.#sql.outgoingSetMessageId.run(messageId, encodePacket(queued).packet, row.seq);
    } else {
      const replacement = encodePacket(packet);
      this.#sql.outgoingReplace.run(
        brokerId,
        packet.brokerCounter ?? null,
        messageId,
        replacement.packet,
        replacement.payload,
        row.seq,
      );
    }
  }

  /** Removes the acknowledged packet (PUBACK, PUBCOMP) and returns it; undefined if none is queued. */
  async outgoingClearMessageId(client: PersistenceClient, packet: PersistedPacket): Promise<PersistedPacket | undefined> {
    const messageId = packet?.messageId;
    // A packet without an identifier was never sent, so it cannot be acknowledged.
    if (typeof messageId !== 'number') return undefined;
    // Aedes clears on every PUBACK, also for clean sessions that never queue anything.
    if (!this.#hints.mayHave('aedes_outgoing', client.id)) return undefined;
    const row = this.#sql.outgoingClear.get(client.id, messageId);
    return row ? decodePacket(row.packet, row.payload) : undefined;
  }

  /** The client's queue in order, as it stood when called; read in pages. */
  outgoingStream(client: PersistenceClient): Readable {
    if (!this.#hints.mayHave('aedes_outgoing', client.id)) return Readable.from([]);
    const lastSeq = this.#sql.outgoingLastSeq.get(client.id) ?? 0;
    return Readable.from(this.#outgoingPages(client.id, lastSeq));
  }

  *#outgoingPages(clientId: string, lastSeq: number): Generator<PersistedPacket> {
    let after = 0;
    for (;;) {
      const rows = this.#sql.outgoingPage.all(clientId, after, lastSeq, this.#pageSize);
      for (const row of rows) yield decodePacket(row.packet, row.payload);
      const last = rows[rows.length - 1];
      if (!last || rows.length < this.#pageSize) return;
      after = last.seq;
    }
  }

  // ---- incoming QoS 2 packets awaiting PUBREL ----

  /** Keeps a received QoS 2 PUBLISH until its PUBREL, so a resend is not delivered twice [MQTT-4.3.3-2]. */
  async incomingStorePacket(client: PersistenceClient, packet: PersistedPacket): Promise<void> {
    const copy = queuedCopy(packet);
    copy.messageId = packet.messageId;
    const row = encodePacket(copy);
    this.#sql.incomingUpsert.run(client.id, requireMessageId(packet), row.packet, row.payload);
    this.#hints.wrote('aedes_incoming', client.id);
  }

  async incomingGetPacket(client: PersistenceClient, packet: PersistedPacket): Promise<PersistedPacket> {
    if (!this.#hints.mayHave('aedes_incoming', client.id)) throw new Error('no such packet');
    const row = this.#sql.incomingGet.get(client.id, requireMessageId(packet));
    if (!row) throw new Error('no such packet');
    return decodePacket(row.packet, row.payload);
  }

  async incomingDelPacket(client: PersistenceClient, packet: PersistedPacket): Promise<void> {
    const result = this.#sql.incomingDelete.run(client.id, requireMessageId(packet));
    if (result.changes === 0) throw new Error('no such packet');
  }

  /** [MQTT-3.1.2-6] a discarded session takes its QoS 2 state with it. */
  async cleanIncoming(client: PersistenceClient): Promise<void> {
    if (!this.#hints.mayHave('aedes_incoming', client.id)) return;
    this.#sql.incomingDeleteClient.run(client.id);
    this.#hints.cleared('aedes_incoming', client.id);
  }

  // ---- wills ----

  /**
   * Stores the client's will, stamped with this broker's id so another
   * broker (or this one after a restart) can tell whose wills are orphaned.
   * The stamp is written onto the caller's packet too, as Aedes expects.
   */
  async putWill(client: PersistenceClient, packet: PersistedPacket): Promise<void> {
    packet.brokerId = this.#broker?.id;
    packet.clientId = client.id;
    const row = encodePacket(packet);
    this.#sql.willUpsert.run(client.id, packet.brokerId ?? null, row.packet, row.payload);
    this.#hints.wrote('aedes_wills', client.id);
  }

  async getWill(client: PersistenceClient): Promise<PersistedPacket | undefined> {
    if (!this.#hints.mayHave('aedes_wills', client.id)) return undefined;
    const row = this.#sql.willGet.get(client.id);
    return row ? decodePacket(row.packet, row.payload) : undefined;
  }

  /** Removes the client's will and returns it. */
  async delWill(client: PersistenceClient): Promise<PersistedPacket | undefined> {
    const will = await this.getWill(client);
    if (will === undefined) return undefined;
    this.#sql.willDelete.run(client.id);
    this.#hints.cleared('aedes_wills', client.id);
    return will;
  }

  /** Wills left by brokers not in `brokers` (dead ones, or this one before a crash), for Aedes to publish. */
  streamWill(brokers: Record<string, unknown> = {}): Readable {
    const orphaned = this.#sql.willsAll
      .all()
      .filter((row) => row.broker_id === null || !Object.hasOwn(brokers, row.broker_id))
      .map((row) => decodePacket(row.packet, row.payload));
    return Readable.from(orphaned);
  }

  /** Stops using the database; it stays open for the rest of latchkey. */
  async destroy(): Promise<void> {
    if (this.#destroyed) throw new Error('destroyed called twice!');
    this.#destroyed = true;
  }
}

function optionsOf(sub: PersistenceSubscription): SubscriptionOptions {
  const options: SubscriptionOptions = {};
  if (sub.rh !== undefined) options.rh = sub.rh;
  if (sub.rap !== undefined) options.rap = sub.rap;
  if (sub.nl !== undefined) options.nl = sub.nl;
  if (sub.subscriptionIdentifier !== undefined) options.subscriptionIdentifier = sub.subscriptionIdentifier;
  return options;
}

/** The index entry omits the subscription identifier: Aedes takes it from the session, not the match. */
function indexedOptions(sub: PersistenceSubscription): Omit<IndexedSubscription, 'clientId'> {
  const { subscriptionIdentifier: _omitted, ...rest } = { topic: sub.topic, qos: sub.qos, ...optionsOf(sub) };
  return rest;
}

function indexedFromRow(row: SubscriptionRow): IndexedSubscription {
  const options = JSON.parse(row.options) as SubscriptionOptions;
  return { clientId: row.client_id, ...indexedOptions({ topic: row.topic, qos: row.qos, ...options }) };
}

function requireMessageId(packet: PersistedPacket): number {
  if (typeof packet.messageId !== 'number') throw new Error('packet has no messageId');
  return packet.messageId;
}
