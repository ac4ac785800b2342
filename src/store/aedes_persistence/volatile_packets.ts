import type { PersistedPacket } from './packet_codec.js';
import { queuedCopy } from './packet_copy.js';

/** Per-client bounds: a token exchange needs one or two packets, so these are generous and still small. */
export const VOLATILE_LIMITS = Object.freeze({
  /** Queued or in-flight outgoing packets per client; the oldest goes first beyond this. */
  outgoing: 32,
  /** Received QoS 2 packets awaiting PUBREL per client; more are refused. */
  incoming: 32,
});

/**
 * The in-memory half of the Aedes persistence: the same per-client state as
 * the SQLite tables (outgoing queue, QoS 2 packets awaiting PUBREL, wills)
 * for the life of the process, for packets that must never reach the disk.
 * Bounded per client; every packet goes in and comes out as a copy, as a
 * database row would.
 */
export class VolatilePackets {
  readonly #outgoing = new Map<string, PersistedPacket[]>();
  readonly #incoming = new Map<string, Map<number, PersistedPacket>>();
  readonly #wills = new Map<string, PersistedPacket>();

  /** Appends to the client's queue, dropping its oldest entry beyond {@link VOLATILE_LIMITS}. */
  enqueue(clientId: string, packet: PersistedPacket): void {
    let queue = this.#outgoing.get(clientId);
    if (!queue) this.#outgoing.set(clientId, (queue = []));
    queue.push(queuedCopy(packet));
    if (queue.length > VOLATILE_LIMITS.outgoing) queue.shift();
  }

  /** The client's queue as it stands now, in order. */
  outgoing(clientId: string): PersistedPacket[] {
    return (this.#outgoing.get(clientId) ?? []).map((packet) => ({ ...packet }));
  }

  /**
   * Applies an Aedes `outgoingUpdate` if it concerns a queued packet, with
   * the SQLite rule: the same message from the same broker gets its packet
   * identifier; from another broker (a PUBREL has none), the entry with the
   * same identifier is replaced. False when no entry matches.
   */
  update(clientId: string, packet: PersistedPacket): boolean {
    const queue = this.#outgoing.get(clientId);
    if (!queue) return false;
    const brokerId = packet.brokerId ?? null;
    const messageId = packet.messageId ?? null;
    const at = queue.findIndex((queued) =>
      (queued.brokerId ?? null) === brokerId
        ? (queued.brokerCounter ?? null) === (packet.brokerCounter ?? null)
        : (queued.messageId ?? null) === messageId,
    );
    if (at === -1) return false;
    const queued = queue[at]!;
    if ((queued.brokerId ?? null) === brokerId) queued.messageId = packet.messageId;
    else queue[at] = { ...packet };
    return true;
  }

  /** Removes the acknowledged packet and returns it; undefined if none has this identifier. */
  clear(clientId: string, messageId: number): PersistedPacket | undefined {
    const queue = this.#outgoing.get(clientId);
    const at = queue?.findIndex((queued) => queued.messageId === messageId) ?? -1;
    if (!queue || at === -1) return undefined;
    const [removed] = queue.splice(at, 1);
    if (queue.length === 0) this.#outgoing.delete(clientId);
    return removed;
  }

  /** Keeps a received QoS 2 packet until its PUBREL; false (nothing kept) when the client is at its bound. */
  storeIncoming(clientId: string, messageId: number, packet: PersistedPacket): boolean {
    let received = this.#incoming.get(clientId);
    if (!received) this.#incoming.set(clientId, (received = new Map()));
    if (!received.has(messageId) && received.size >= VOLATILE_LIMITS.incoming) return false;
    received.set(messageId, { ...packet });
    return true;
  }

  incoming(clientId: string, messageId: number): PersistedPacket | undefined {
    const packet = this.#incoming.get(clientId)?.get(messageId);
    return packet ? { ...packet } : undefined;
  }

  /** True if the packet was held here. */
  deleteIncoming(clientId: string, messageId: number): boolean {
    const received = this.#incoming.get(clientId);
    if (!received?.delete(messageId)) return false;
    if (received.size === 0) this.#incoming.delete(clientId);
    return true;
  }

  clearIncoming(clientId: string): void {
    this.#incoming.delete(clientId);
  }

  putWill(clientId: string, packet: PersistedPacket): void {
    this.#wills.set(clientId, { ...packet });
  }

  will(clientId: string): PersistedPacket | undefined {
    const packet = this.#wills.get(clientId);
    return packet ? { ...packet } : undefined;
  }

  /** Removes the client's will and returns it. */
  deleteWill(clientId: string): PersistedPacket | undefined {
    const packet = this.#wills.get(clientId);
    this.#wills.delete(clientId);
    return packet;
  }
}
