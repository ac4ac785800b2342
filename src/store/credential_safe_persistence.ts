/**
 * The Aedes persistence latchkey runs: a durable one (SQLite on one node,
 * Redis with `--cluster`) behind this wrapper, which keeps packets on
 * credential topics (`$auth/…`, `$provision/…`, see policy/credential_topics.ts)
 * from ever reaching the disk or Redis.
 *
 * Why: a `$auth/<id>/reauth` carries an access token, a `token/response` a
 * freshly signed one, a `$provision/…/register/response` a client secret.
 * Aedes stores a QoS 2 PUBLISH before its PUBREL, queues QoS 1/2 messages for
 * offline persistent sessions and in-flight deliveries, and stores wills;
 * every one of those writes would put the credential into the database file
 * or its WAL, where it outlives the DELETE that follows (SQLite reuses free
 * pages and WAL frames, it does not wipe them), or into Redis, where every
 * node, its RDB/AOF files and its replicas would hold it.
 *
 * What instead: the same state in memory ({@link VolatilePackets}), with the
 * same semantics, for the life of the process, bounded per client. MQTT
 * asks the server to keep session state for the life of the session
 * [MQTT-4.1.0-1] and leaves its durability to the implementation; what a
 * crash or restart loses here is only an answer the device can ask for
 * again, or a request it will resend. Retained messages on these topics are
 * refused outright: docs/INTERFACE.md#renewing-over-mqtt says they are never retained.
 *
 * The one decision is {@link CredentialSafePersistence.#inMemory}; every
 * method that writes a packet asks it, and every method that reads or
 * removes by packet identifier looks in memory first, so the memory entries
 * are ahead of the durable ones. [MQTT-4.6.0-6] orders messages per topic,
 * and no topic has entries in both places.
 */
import { Readable } from 'node:stream';
import { isCredentialTopic } from '../policy/credential_topics.js';
import { isSessionOf, type PersistedPacket } from './aedes_persistence.js';
import type {
  AedesPersistence,
  BrokerLike,
  PersistenceClient,
  PersistenceSubscription,
} from './aedes_persistence/persistence_interface.js';
import { queuedCopy } from './aedes_persistence/packet_copy.js';
import { VolatilePackets } from './aedes_persistence/volatile_packets.js';

/**
 * Migration 12: removes what a version before this module stored on
 * credential topics (a QoS 2 reauth awaiting PUBREL, a request queued for
 * an offline persistent session, a will, a retained message), with
 * `secure_delete` on so the rows' bytes are overwritten, not just freed.
 * The prefixes are spelled out, not taken from CREDENTIAL_TOPIC_PREFIXES,
 * because a shipped migration must never change meaning.
 * Pages freed before this ran may still hold old bytes: docs/SECURITY.md
 * tells operators how to VACUUM them away.
 */
export const FORGET_STORED_CREDENTIALS_SQL = `
PRAGMA secure_delete = ON;
DELETE FROM aedes_retained WHERE substr(topic, 1, 6) = '$auth/' OR substr(topic, 1, 11) = '$provision/';
DELETE FROM aedes_outgoing WHERE substr(json_extract(packet, '$.f.topic'), 1, 6) = '$auth/'
  OR substr(json_extract(packet, '$.f.topic'), 1, 11) = '$provision/';
DELETE FROM aedes_incoming WHERE substr(json_extract(packet, '$.f.topic'), 1, 6) = '$auth/'
  OR substr(json_extract(packet, '$.f.topic'), 1, 11) = '$provision/';
DELETE FROM aedes_wills WHERE substr(json_extract(packet, '$.f.topic'), 1, 6) = '$auth/'
  OR substr(json_extract(packet, '$.f.topic'), 1, 11) = '$provision/';
`;

export interface CredentialSafeOptions {
  /**
   * Credential topics the broker delivers to nobody (requests addressed to
   * the broker itself, withheld by `authorizeForward`): not queued at all,
   * since a queued copy could only ever be thrown away.
   */
  neverDelivered?: (topic: string) => boolean;
}

/**
 * Creates the persistence the broker uses: `durable` (SQLite or Redis) for
 * everything but credential topics, memory for those.
 *
 * @example
 * const persistence = createCredentialSafePersistence(createSqlitePersistence(db), { neverDelivered: isAuthRequestTopic });
 * const broker = await Aedes.createBroker({ persistence });
 */
export function createCredentialSafePersistence(durable: AedesPersistence, opts: CredentialSafeOptions = {}): CredentialSafePersistence {
  return new CredentialSafePersistence(durable, opts);
}

export class CredentialSafePersistence implements AedesPersistence {
  readonly #durable: AedesPersistence;
  readonly #memory = new VolatilePackets();
  readonly #neverDelivered: (topic: string) => boolean;
  #broker: BrokerLike | undefined;

  constructor(durable: AedesPersistence, opts: CredentialSafeOptions = {}) {
    this.#durable = durable;
    this.#neverDelivered = opts.neverDelivered ?? (() => false);
  }

  /** The broker given to `setup` (the abstract test suite reads it). */
  get broker(): BrokerLike | undefined {
    return this.#broker;
  }

  async setup(broker: BrokerLike): Promise<void> {
    this.#broker = broker;
    await this.#durable.setup(broker);
  }

  /** The decision: a packet that may carry a credential stays in memory. */
  #inMemory(packet: PersistedPacket | undefined): boolean {
    return isCredentialTopic(packet?.topic);
  }

  // ---- retained messages ----

  /**
   * Never stores a credential topic. An empty payload still reaches the
   * durable store, so a retained message an older version stored there is removed.
   */
  async storeRetained(packet: PersistedPacket): Promise<void> {
    if (this.#inMemory(packet) && packet.payload && packet.payload.length > 0) return;
    return this.#durable.storeRetained(packet);
  }

  createRetainedStreamCombi(patterns: string[]): Readable {
    return asReadable(this.#durable.createRetainedStreamCombi(patterns));
  }

  createRetainedStream(pattern: string): Readable {
    return asReadable(this.#durable.createRetainedStream(pattern));
  }

  // ---- subscriptions: no packets, so always durable ----

  addSubscriptions(client: PersistenceClient, subs: PersistenceSubscription[]): Promise<unknown> {
    return this.#durable.addSubscriptions(client, subs);
  }

  removeSubscriptions(client: PersistenceClient, topics: string[]): Promise<unknown> {
    return this.#durable.removeSubscriptions(client, topics);
  }

  subscriptionsByClient(client: PersistenceClient): Promise<PersistenceSubscription[]> {
    return this.#durable.subscriptionsByClient(client);
  }

  countOffline(): Promise<{ subsCount: number; clientsCount: number }> {
    return this.#durable.countOffline();
  }

  subscriptionsByTopic(topic: string): ReturnType<AedesPersistence['subscriptionsByTopic']> {
    return this.#durable.subscriptionsByTopic(topic);
  }

  cleanSubscriptions(client: PersistenceClient): Promise<unknown> {
    return this.#durable.cleanSubscriptions(client);
  }

  getClientList(topic: string): Readable {
    return asReadable(this.#durable.getClientList(topic));
  }

  /** A deleted principal's packets held here go with its durable state. */
  async forgetPrincipal(principal: string): Promise<void> {
    this.#memory.forget((clientId) => isSessionOf(principal, clientId));
    return this.#durable.forgetPrincipal(principal);
  }

  // ---- outgoing queue ----

  async outgoingEnqueue(sub: { clientId: string }, packet: PersistedPacket): Promise<void> {
    return this.outgoingEnqueueCombi([sub], packet);
  }

  async outgoingEnqueueCombi(subs: { clientId: string }[], packet: PersistedPacket): Promise<void> {
    if (!this.#inMemory(packet)) return this.#durable.outgoingEnqueueCombi(subs, packet);
    if (this.#neverDelivered(packet.topic!)) return;
    // Beyond the memory budget a copy is not queued: lost as a restart would lose it, never spilled to disk.
    for (const sub of subs) this.#memory.enqueue(sub.clientId, packet);
  }

  /**
   * A PUBREL has no topic, so it goes where its PUBLISH is. A credential
   * PUBLISH not held in memory (dropped at the bound) is refused rather
   * than matched against a durable entry, which would write it out.
   */
  async outgoingUpdate(client: PersistenceClient, packet: PersistedPacket): Promise<void> {
    if (this.#memory.update(client.id, packet)) return;
    if (this.#inMemory(packet)) throw new Error('no such packet');
    await this.#durable.outgoingUpdate(client, packet);
  }

  async outgoingClearMessageId(client: PersistenceClient, packet: PersistedPacket): Promise<PersistedPacket | undefined> {
    const messageId = packet?.messageId;
    const held = typeof messageId === 'number' ? this.#memory.clear(client.id, messageId) : undefined;
    return held ?? this.#durable.outgoingClearMessageId(client, packet);
  }

  /** The memory queue as it stands now, then the durable one. */
  outgoingStream(client: PersistenceClient): Readable {
    const held = this.#memory.outgoing(client.id);
    const durable = this.#durable.outgoingStream(client);
    if (held.length === 0) return asReadable(durable);
    return Readable.from(
      (async function* () {
        yield* held;
        yield* durable;
      })(),
    );
  }

  // ---- incoming QoS 2 ----

  /** Refused beyond the per-client bound: Aedes then closes the connection, and the client resends. */
  async incomingStorePacket(client: PersistenceClient, packet: PersistedPacket): Promise<void> {
    if (!this.#inMemory(packet)) return this.#durable.incomingStorePacket(client, packet);
    if (typeof packet.messageId !== 'number') throw new Error('packet has no messageId');
    const copy = queuedCopy(packet);
    copy.messageId = packet.messageId;
    if (!this.#memory.storeIncoming(client.id, packet.messageId, copy)) {
      throw new Error('too many QoS 2 packets awaiting PUBREL on credential topics');
    }
  }

  async incomingGetPacket(client: PersistenceClient, packet: PersistedPacket): Promise<PersistedPacket> {
    const held = typeof packet.messageId === 'number' ? this.#memory.incoming(client.id, packet.messageId) : undefined;
    return held ?? this.#durable.incomingGetPacket(client, packet);
  }

  async incomingDelPacket(client: PersistenceClient, packet: PersistedPacket): Promise<void> {
    if (typeof packet.messageId === 'number' && this.#memory.deleteIncoming(client.id, packet.messageId)) return;
    return this.#durable.incomingDelPacket(client, packet);
  }

  async cleanIncoming(client: PersistenceClient): Promise<void> {
    this.#memory.clearIncoming(client.id);
    return this.#durable.cleanIncoming(client);
  }

  // ---- wills ----

  /**
   * A will on a credential topic stays in memory. Aedes publishes it itself
   * when the connection drops; after a crash it is gone with the process, so
   * `streamWill` (orphaned wills of dead brokers) reads the durable store only.
   */
  async putWill(client: PersistenceClient, packet: PersistedPacket): Promise<void> {
    if (!this.#inMemory(packet)) {
      this.#memory.deleteWill(client.id);
      return this.#durable.putWill(client, packet);
    }
    packet.brokerId = this.#broker?.id;
    packet.clientId = client.id;
    this.#memory.putWill(client.id, packet);
  }

  async getWill(client: PersistenceClient): Promise<PersistedPacket | undefined | null> {
    return this.#memory.will(client.id) ?? this.#durable.getWill(client);
  }

  async delWill(client: PersistenceClient & { brokerId?: string }): Promise<PersistedPacket | undefined | null> {
    const held = this.#memory.deleteWill(client.id);
    const durable = await this.#durable.delWill(client);
    return held ?? durable;
  }

  streamWill(brokers?: Record<string, unknown>): Readable {
    return asReadable(this.#durable.streamWill(brokers));
  }

  destroy(): Promise<void> {
    return this.#durable.destroy();
  }
}

/** Aedes pipes some of these streams: an async generator (the Redis persistence's) becomes a Readable. */
function asReadable<T>(items: AsyncIterable<T> | Iterable<T>): Readable {
  return items instanceof Readable ? items : Readable.from(items);
}
