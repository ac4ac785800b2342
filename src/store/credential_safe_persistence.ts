/**
 * The Aedes persistence latchkey runs: the SQLite one, except that packets on
 * credential topics (`$auth/…`, `$provision/…`, see policy/credential_topics.ts)
 * never reach the disk.
 *
 * Why: a `$auth/<id>/reauth` carries an access token, a `token/response` a
 * freshly signed one, a `$provision/…/register/response` a client secret.
 * Aedes stores a QoS 2 PUBLISH before its PUBREL, queues QoS 1/2 messages for
 * offline persistent sessions and in-flight deliveries, and stores wills;
 * every one of those writes would put the credential into the database file
 * or its WAL, where it outlives the DELETE that follows (SQLite reuses free
 * pages and WAL frames, it does not wipe them).
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
import type { Database } from 'better-sqlite3';
import { Readable } from 'node:stream';
import { isCredentialTopic } from '../policy/credential_topics.js';
import {
  isSessionOf,
  type PersistedPacket,
  type PersistenceClient,
  SqlitePersistence,
  type SqlitePersistenceOptions,
} from './aedes_persistence.js';
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

export interface CredentialSafeOptions extends SqlitePersistenceOptions {
  /**
   * Credential topics the broker delivers to nobody (requests addressed to
   * the broker itself, withheld by `authorizeForward`): not queued at all,
   * since a queued copy could only ever be thrown away.
   */
  neverDelivered?: (topic: string) => boolean;
}

/**
 * Creates the persistence the broker uses: SQLite for everything but
 * credential topics, memory for those.
 *
 * @example
 * const persistence = createCredentialSafePersistence(db, { neverDelivered: isAuthRequestTopic });
 * const broker = await Aedes.createBroker({ persistence });
 */
export function createCredentialSafePersistence(db: Database, opts: CredentialSafeOptions = {}): CredentialSafePersistence {
  return new CredentialSafePersistence(db, opts);
}

export class CredentialSafePersistence extends SqlitePersistence {
  readonly #memory = new VolatilePackets();
  readonly #neverDelivered: (topic: string) => boolean;

  constructor(db: Database, opts: CredentialSafeOptions = {}) {
    super(db, opts);
    this.#neverDelivered = opts.neverDelivered ?? (() => false);
  }

  /** The decision: a packet that may carry a credential stays in memory. */
  #inMemory(packet: PersistedPacket | undefined): boolean {
    return isCredentialTopic(packet?.topic);
  }

  /**
   * Never stores a credential topic. An empty payload still reaches the
   * table, so a retained message an older version stored there is removed.
   */
  override async storeRetained(packet: PersistedPacket): Promise<void> {
    if (this.#inMemory(packet) && packet.payload && packet.payload.length > 0) return;
    return super.storeRetained(packet);
  }

  override async outgoingEnqueue(sub: { clientId: string }, packet: PersistedPacket): Promise<void> {
    return this.outgoingEnqueueCombi([sub], packet);
  }

  override async outgoingEnqueueCombi(subs: { clientId: string }[], packet: PersistedPacket): Promise<void> {
    if (!this.#inMemory(packet)) return super.outgoingEnqueueCombi(subs, packet);
    if (this.#neverDelivered(packet.topic!)) return;
    // Beyond the memory budget a copy is not queued: lost as a restart would lose it, never spilled to disk.
    for (const sub of subs) this.#memory.enqueue(sub.clientId, packet);
  }

  /**
   * A PUBREL has no topic, so it goes where its PUBLISH is. A credential
   * PUBLISH not held in memory (dropped at the bound) is refused rather
   * than matched against a durable row, which would write it to disk.
   */
  override async outgoingUpdate(client: PersistenceClient, packet: PersistedPacket): Promise<void> {
    if (this.#memory.update(client.id, packet)) return;
    if (this.#inMemory(packet)) throw new Error('no such packet');
    return super.outgoingUpdate(client, packet);
  }

  override async outgoingClearMessageId(client: PersistenceClient, packet: PersistedPacket): Promise<PersistedPacket | undefined> {
    const messageId = packet?.messageId;
    const held = typeof messageId === 'number' ? this.#memory.clear(client.id, messageId) : undefined;
    return held ?? super.outgoingClearMessageId(client, packet);
  }

  /** The memory queue as it stands now, then the durable one. */
  override outgoingStream(client: PersistenceClient): Readable {
    const held = this.#memory.outgoing(client.id);
    const durable = super.outgoingStream(client);
    if (held.length === 0) return durable;
    return Readable.from(
      (async function* () {
        yield* held;
        yield* durable;
      })(),
    );
  }

  /** Refused beyond the per-client bound: Aedes then closes the connection, and the client resends. */
  override async incomingStorePacket(client: PersistenceClient, packet: PersistedPacket): Promise<void> {
    if (!this.#inMemory(packet)) return super.incomingStorePacket(client, packet);
    if (typeof packet.messageId !== 'number') throw new Error('packet has no messageId');
    const copy = queuedCopy(packet);
    copy.messageId = packet.messageId;
    if (!this.#memory.storeIncoming(client.id, packet.messageId, copy)) {
      throw new Error('too many QoS 2 packets awaiting PUBREL on credential topics');
    }
  }

  override async incomingGetPacket(client: PersistenceClient, packet: PersistedPacket): Promise<PersistedPacket> {
    const held = typeof packet.messageId === 'number' ? this.#memory.incoming(client.id, packet.messageId) : undefined;
    return held ?? super.incomingGetPacket(client, packet);
  }

  override async incomingDelPacket(client: PersistenceClient, packet: PersistedPacket): Promise<void> {
    if (typeof packet.messageId === 'number' && this.#memory.deleteIncoming(client.id, packet.messageId)) return;
    return super.incomingDelPacket(client, packet);
  }

  /** A deleted principal's packets held here go with its rows (see the base class). */
  override async forgetPrincipal(principal: string): Promise<void> {
    this.#memory.forget((clientId) => isSessionOf(principal, clientId));
    return super.forgetPrincipal(principal);
  }

  override async cleanIncoming(client: PersistenceClient): Promise<void> {
    this.#memory.clearIncoming(client.id);
    return super.cleanIncoming(client);
  }

  /**
   * A will on a credential topic stays in memory. Aedes publishes it itself
   * when the connection drops; after a crash it is gone with the process, so
   * `streamWill` (orphaned wills of dead brokers) reads the table only.
   */
  override async putWill(client: PersistenceClient, packet: PersistedPacket): Promise<void> {
    if (!this.#inMemory(packet)) {
      this.#memory.deleteWill(client.id);
      return super.putWill(client, packet);
    }
    packet.brokerId = this.broker?.id;
    packet.clientId = client.id;
    this.#memory.putWill(client.id, packet);
  }

  override async getWill(client: PersistenceClient): Promise<PersistedPacket | undefined> {
    return this.#memory.will(client.id) ?? super.getWill(client);
  }

  override async delWill(client: PersistenceClient): Promise<PersistedPacket | undefined> {
    const held = this.#memory.deleteWill(client.id);
    const durable = await super.delWill(client);
    return held ?? durable;
  }
}
