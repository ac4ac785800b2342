/**
 * How Aedes packets are written to and read back from SQLite rows: the
 * payload in its own BLOB column, every other field as JSON.
 *
 * Aedes and the aedes-persistence contract compare packets by their exact
 * shape, so the codec must round-trip it: a Buffer payload comes back a
 * Buffer, a string payload a string, a field set to `undefined` (Aedes sets
 * `messageId: undefined` on queued QoS>0 packets on purpose) comes back
 * present and `undefined`, and a field that was absent stays absent.
 */

/** An Aedes packet as the persistence sees it: MQTT fields plus Aedes' own. */
export interface PersistedPacket {
  cmd?: string;
  topic?: string;
  payload?: Buffer | string;
  qos?: number;
  retain?: boolean;
  dup?: boolean;
  messageId?: number;
  brokerId?: string | null;
  brokerCounter?: number;
  clientId?: string;
  [field: string]: unknown;
}

/** The two columns a packet is stored in. */
export interface EncodedPacket {
  /** JSON: `{"f": fields without payload, "u": names of fields set to undefined}`. */
  packet: string;
  /**
   * The payload: a Buffer is bound as a BLOB, a string as TEXT (a BLOB-typed
   * column keeps each value's own storage class, so the type round-trips);
   * null when the packet has no payload (PUBREL).
   */
  payload: Buffer | string | null;
}

interface PacketJson {
  f: Record<string, unknown>;
  u: string[];
}

/**
 * Encodes a packet for storage. Nested Buffers (MQTT 5 correlation data) go
 * through Buffer's own JSON form and are revived by {@link decodePacket}.
 *
 * @example
 * const { packet, payload } = encodePacket({ cmd: 'publish', topic: 'a', payload: Buffer.from('x'), messageId: undefined });
 */
export function encodePacket(source: PersistedPacket): EncodedPacket {
  const fields: Record<string, unknown> = {};
  const undefinedFields: string[] = [];
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined) undefinedFields.push(name);
    else if (name !== 'payload') fields[name] = value;
  }
  const json: PacketJson = { f: fields, u: undefinedFields };
  return { packet: JSON.stringify(json), payload: payloadColumn(source.payload) };
}

/**
 * Rebuilds the packet {@link encodePacket} stored.
 *
 * @example
 * const copy = decodePacket(row.packet, row.payload);
 */
export function decodePacket(packet: string, payload: Buffer | string | null): PersistedPacket {
  const json = JSON.parse(packet, reviveBuffer) as PacketJson;
  const result: PersistedPacket = json.f;
  if (payload !== null) result.payload = payload;
  for (const name of json.u) result[name] = undefined;
  return result;
}

function payloadColumn(payload: unknown): Buffer | string | null {
  if (payload === undefined || payload === null) return null;
  if (typeof payload === 'string' || Buffer.isBuffer(payload)) return payload;
  // better-sqlite3 binds Buffers, not other views: copy-free wrap of the same bytes.
  if (ArrayBuffer.isView(payload)) return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  throw new TypeError('packet payload must be a Buffer or a string');
}

function reviveBuffer(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null) {
    const v = value as { type?: unknown; data?: unknown };
    if (v.type === 'Buffer' && Array.isArray(v.data)) return Buffer.from(v.data as number[]);
  }
  return value;
}
