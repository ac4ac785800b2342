import type { PersistedPacket } from './packet_codec.js';

/** Optional fields Aedes carries on a packet only when they were set. */
const OPTIONAL_FIELDS = ['clientId', 'nl', 'properties', 'messageExpiry'] as const;

/**
 * The shape Aedes keeps for a packet waiting in a queue: its routing fields
 * with Aedes' defaults, and nothing transport-specific (`length`). For QoS>0
 * (and for any non-PUBLISH) the packet identifier is cleared: the identifier
 * belongs to one flow between broker and client and is assigned when the
 * message is actually sent [MQTT-2.3.1-1], [MQTT-2.3.1-5].
 *
 * @example
 * queuedCopy({ cmd: 'publish', topic: 't', payload: Buffer.from('x'), qos: 1, messageId: 7, length: 9 })
 * // { cmd: 'publish', brokerId: undefined, brokerCounter: 0, topic: 't', payload: <Buffer 78>,
 * //   qos: 1, retain: false, dup: false, messageId: undefined }
 */
export function queuedCopy(packet: PersistedPacket): PersistedPacket {
  const copy: PersistedPacket = {};
  const optional: Record<string, unknown> = copy;
  for (const field of OPTIONAL_FIELDS) {
    if (Object.hasOwn(packet, field)) optional[field] = packet[field];
  }
  copy.cmd = packet.cmd || 'publish';
  // Aedes treats any falsy brokerId (null for retained re-deliveries) as "not deduplicated".
  copy.brokerId = packet.brokerId || undefined;
  copy.brokerCounter = packet.brokerCounter || 0;
  copy.topic = packet.topic;
  copy.payload = packet.payload || Buffer.alloc(0);
  copy.qos = packet.qos || 0;
  copy.retain = packet.retain || false;
  copy.dup = packet.dup || false;
  if (copy.qos > 0 || copy.cmd !== 'publish') copy.messageId = undefined;
  return copy;
}
