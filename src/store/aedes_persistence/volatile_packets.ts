import type { PersistedPacket } from './packet_codec.js';
import { queuedCopy } from './packet_copy.js';

/** Per-client bounds: a token exchange needs one or two packets, so these are generous and still small. */
export const VOLATILE_LIMITS = Object.freeze({
  /** Queued or in-flight outgoing packets per client; the oldest goes first beyond this. */
  outgoing: 32,
  /** Received QoS 2 packets awaiting PUBREL per client; more are refused. */
  incoming: 32,
  /**
   * Payload bytes held for all clients together. Client ids are not a bound
   * (people may add any `@suffix`), so this is: beyond it a new packet is
   * refused (incoming) or not queued (outgoing), never buffered.
   */
  totalBytes: 32 * 1024 * 1024,
});

function sizeOf(packet: PersistedPacket): number {
  const payload = packet.payload;
  if (payload === undefined) return 0;
  return typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
}

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
  #bytes = 0;

  /** Payload bytes held now, for all clients. */
  get bytes(): number {
    return this.#bytes;
  }

  #fits(packet: PersistedPacket): boolean {
    return this.#bytes + sizeOf(packet) <= VOLATILE_LIMITS.totalBytes;
  }

  /**
   * Appends to the client's queue, dropping its oldest entry beyond
   * {@link VOLATILE_LIMITS}; false (not queued) when the memory budget is spent.
   */
  enqueue(clientId: string, packet: PersistedPacket): boolean {
    if (!this.#fits(packet)) return false;
    let queue = this.#outgoing.get(clientId);
    if (!queue) this.#outgoing.set(clientId, (queue = []));
    queue.push(queuedCopy(packet));
    this.#bytes += sizeOf(packet);
    if (queue.length > VOLATILE_LIMITS.outgoing) this.#bytes -= sizeOf(queue.shift()!);
    return true;
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
    if ((queued.brokerId ?? null) === brokerId) {
      queued.messageId = packet.messageId;
    } else {
      // A PUBREL (no payload) replaces its PUBLISH.
      this.#bytes += sizeOf(packet) - sizeOf(queued);
      queue[at] = { ...packet };
    }
    return true;
  }

  /** Removes the acknowledged packet and returns it; undefined if none has this identifier. */
  clear(clientId: string, messageId: number): PersistedPacket | undefined {
    const queue = this.#outgoing.get(clientId);
    const at = queue?.findIndex((queued) => queued.messageId === messageId) ?? -1;
    if (!queue || at === -1) return undefined;
    const [removed] = queue.splice(at, 1);
    if (queue.length === 0) this.#outgoing.delete(clientId);
    this.#bytes -= sizeOf(removed!);
    return removed;
  }

  /** Keeps a received QoS 2 packet until its PUBREL; false (nothing kept) at the client's bound or the budget. */
  storeIncoming(clientId: string, messageId: number, packet: PersistedPacket): boolean {
    const received = this.#incoming.get(clientId) ?? new Map<number, PersistedPacket>();
    const replaced = received.get(messageId);
    if (!replaced && received.size >= VOLATILE_LIMITS.incoming) return false;
    if (this.#bytes - (replaced ? sizeOf(replaced) : 0) + sizeOf(packet) > VOLATILE_LIMITS.totalBytes) return false;
    this.#incoming.set(clientId, received);
    received.set(messageId, { ...packet });
    this.#bytes += sizeOf(packet) - (replaced ? sizeOf(replaced) : 0);
    return true;
  }

  incoming(clientId: string, messageId: number): PersistedPacket | undefined {
    const packet = this.#incoming.get(clientId)?.get(messageId);
    return packet ? { ...packet } : undefined;
  }

  /** True if the packet was held here. */
  deleteIncoming(clientId: string, messageId: number): boolean {
    const received = this.#incoming.get(clientId);
    const held = received?.get(messageId);
    if (!received || !held) return false;
    received.delete(messageId);
    if (received.size === 0) this.#incoming.delete(clientId);
    this.#bytes -= sizeOf(held);
    return true;
  }

  clearIncoming(clientId: string): void {
    for (const held of this.#incoming.get(clientId)?.values() ?? []) this.#bytes -= sizeOf(held);
    this.#incoming.delete(clientId);
  }

  /**
   * Keeps the client's will. A will is part of the CONNECT, already judged
   * by the packet-size limit, one per client id: it is not refused here,
   * only counted.
   */
  putWill(clientId: string, packet: PersistedPacket): void {
    this.deleteWill(clientId);
    this.#wills.set(clientId, { ...packet });
    this.#bytes += sizeOf(packet);
  }

  will(clientId: string): PersistedPacket | undefined {
    const packet = this.#wills.get(clientId);
    return packet ? { ...packet } : undefined;
  }

  /** Drops everything held for the clients `matches` picks: a deleted principal's sessions. */
  forget(matches: (clientId: string) => boolean): void {
    for (const [clientId, queue] of this.#outgoing) {
      if (!matches(clientId)) continue;
      for (const packet of queue) this.#bytes -= sizeOf(packet);
      this.#outgoing.delete(clientId);
    }
    for (const clientId of [...this.#incoming.keys()]) if (matches(clientId)) this.clearIncoming(clientId);
    for (const clientId of [...this.#wills.keys()]) if (matches(clientId)) this.deleteWill(clientId);
  }

  /** Removes the client's will and returns it. */
  deleteWill(clientId: string): PersistedPacket | undefined {
    const packet = this.#wills.get(clientId);
    if (!packet) return undefined;
    this.#wills.delete(clientId);
    this.#bytes -= sizeOf(packet);
    return packet;
  }
}
