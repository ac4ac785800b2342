import type { PersistedPacket } from './packet_codec.js';
import type { IndexedSubscription } from './subscription_index.js';

/** The client fields the persistence reads: Aedes passes its Client, tests a plain object. */
export interface PersistenceClient {
  id: string;
}

/** A SUBSCRIBE entry as Aedes passes it (mqtt-packet's `subscriptions`). */
export interface PersistenceSubscription {
  topic: string;
  qos: number;
  rh?: number;
  rap?: boolean;
  nl?: boolean;
  /** MQTT 5 Subscription Identifier, restored with the session. */
  subscriptionIdentifier?: number;
}

/** What `setup` needs from the broker: its id, stamped on wills. */
export interface BrokerLike {
  id: string;
}

/**
 * The Aedes 1.2 persistence interface (promise-returning methods, async
 * iterables for streams) as latchkey uses it, plus {@link forgetPrincipal},
 * which both of latchkey's persistences provide: SQLite (one node) and Redis
 * (`--cluster`). The credential-safe wrapper sits in front of either.
 */
export interface AedesPersistence {
  setup(broker: BrokerLike): Promise<void>;
  storeRetained(packet: PersistedPacket): Promise<void>;
  createRetainedStreamCombi(patterns: string[]): AsyncIterable<PersistedPacket>;
  createRetainedStream(pattern: string): AsyncIterable<PersistedPacket>;
  addSubscriptions(client: PersistenceClient, subs: PersistenceSubscription[]): Promise<unknown>;
  removeSubscriptions(client: PersistenceClient, topics: string[]): Promise<unknown>;
  subscriptionsByClient(client: PersistenceClient): Promise<PersistenceSubscription[]>;
  countOffline(): Promise<{ subsCount: number; clientsCount: number }>;
  subscriptionsByTopic(topic: string): Promise<IndexedSubscription[]>;
  cleanSubscriptions(client: PersistenceClient): Promise<unknown>;
  getClientList(topic: string): AsyncIterable<string> | Iterable<string>;
  outgoingEnqueue(sub: { clientId: string }, packet: PersistedPacket): Promise<void>;
  outgoingEnqueueCombi(subs: { clientId: string }[], packet: PersistedPacket): Promise<void>;
  outgoingUpdate(client: PersistenceClient, packet: PersistedPacket): Promise<unknown>;
  outgoingClearMessageId(client: PersistenceClient, packet: PersistedPacket): Promise<PersistedPacket | undefined>;
  outgoingStream(client: PersistenceClient): AsyncIterable<PersistedPacket>;
  incomingStorePacket(client: PersistenceClient, packet: PersistedPacket): Promise<void>;
  incomingGetPacket(client: PersistenceClient, packet: PersistedPacket): Promise<PersistedPacket>;
  incomingDelPacket(client: PersistenceClient, packet: PersistedPacket): Promise<void>;
  cleanIncoming(client: PersistenceClient): Promise<void>;
  putWill(client: PersistenceClient, packet: PersistedPacket): Promise<void>;
  getWill(client: PersistenceClient): Promise<PersistedPacket | undefined | null>;
  delWill(client: PersistenceClient & { brokerId?: string }): Promise<PersistedPacket | undefined | null>;
  streamWill(brokers?: Record<string, unknown>): AsyncIterable<PersistedPacket>;
  /**
   * Forgets a deleted principal's persistent sessions (client ids
   * `isSessionOf` it): subscriptions, queued messages, QoS 2 state and
   * wills, so a later principal of the same name starts clean. Idempotent.
   */
  forgetPrincipal(principal: string): Promise<void>;
  destroy(): Promise<void>;
}
