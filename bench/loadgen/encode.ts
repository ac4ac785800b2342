import { generate } from 'mqtt-packet';

/**
 * Packet bytes, built once before a timed part. CONNECT and SUBSCRIBE come
 * from mqtt-packet; PUBLISH and PUBACK, sent in the hot loop, are laid out
 * here so a QoS 1 message only needs its packet id patched.
 */

export interface ConnectFields {
  clientId: string;
  username?: string;
  password?: string;
  /** Seconds; 0 turns keep-alive off (the bench's sessions never idle out mid-run). */
  keepalive?: number;
  clean?: boolean;
}

/** @example connectPacket({ clientId: 'dev1', username: 'dev1', password: token }) */
export function connectPacket(f: ConnectFields): Buffer {
  return generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: f.clean ?? true,
    keepalive: f.keepalive ?? 0,
    clientId: f.clientId,
    ...(f.username !== undefined ? { username: f.username } : {}),
    ...(f.password !== undefined ? { password: Buffer.from(f.password) } : {}),
  });
}

/** @example subscribePacket(1, 'bench/#', 1) */
export function subscribePacket(messageId: number, filter: string, qos: 0 | 1): Buffer {
  return generate({ cmd: 'subscribe', messageId, subscriptions: [{ topic: filter, qos }] });
}

/** [MQTT-3.14] DISCONNECT: fixed header only. */
export const DISCONNECT = Buffer.from([0xe0, 0x00]);

/** [MQTT-3.12] PINGREQ. */
export const PINGREQ = Buffer.from([0xc0, 0x00]);

/** A PUBLISH template; for QoS 1 call {@link PublishTemplate.withId} per message. */
export interface PublishTemplate {
  bytes: Buffer;
  /** Offset of the two-byte packet id, or -1 for QoS 0. */
  idOffset: number;
}

/**
 * [MQTT-3.3] PUBLISH with a fixed topic and payload.
 *
 * @example const t = publishTemplate('bench/a', Buffer.alloc(64), 1); const b = withPacketId(t, 7);
 */
export function publishTemplate(topic: string, payload: Buffer, qos: 0 | 1): PublishTemplate {
  const topicBytes = Buffer.from(topic, 'utf8');
  const variable = 2 + topicBytes.length + (qos > 0 ? 2 : 0);
  const remaining = variable + payload.length;
  const header = [0x30 | (qos << 1)];
  let x = remaining;
  do {
    let byte = x % 128;
    x = Math.floor(x / 128);
    if (x > 0) byte |= 0x80;
    header.push(byte);
  } while (x > 0);
  const bytes = Buffer.alloc(header.length + remaining);
  Buffer.from(header).copy(bytes, 0);
  let pos = header.length;
  bytes.writeUInt16BE(topicBytes.length, pos);
  topicBytes.copy(bytes, pos + 2);
  pos += 2 + topicBytes.length;
  const idOffset = qos > 0 ? pos : -1;
  payload.copy(bytes, pos + (qos > 0 ? 2 : 0));
  return { bytes, idOffset };
}

/** Writes `count` copies of a QoS 1 template into one buffer, ids from `firstId` (wrapping within 1..65535). */
export function publishBatch(t: PublishTemplate, count: number, firstId: number): Buffer {
  const out = Buffer.allocUnsafe(t.bytes.length * count);
  let id = firstId;
  for (let i = 0; i < count; i++) {
    const at = i * t.bytes.length;
    t.bytes.copy(out, at);
    if (t.idOffset >= 0) {
      out.writeUInt16BE(id, at + t.idOffset);
      id = id === 65535 ? 1 : id + 1;
    }
  }
  return out;
}

/** [MQTT-3.4] PUBACK for a packet id. */
export function puback(id: number): Buffer {
  return Buffer.from([0x40, 0x02, id >> 8, id & 0xff]);
}
