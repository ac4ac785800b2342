/**
 * Splits a byte stream into MQTT control packets without decoding them
 * ([MQTT-2.2] fixed header: type and flags in byte 1, then the Remaining
 * Length as a 1–4 byte varint). The hot path of the load generator: it
 * counts and acknowledges PUBLISH packets by peeking at a few bytes rather
 * than building objects, so the generator's core is not the bottleneck.
 */
export type FrameHandler = (type: number, flags: number, body: Buffer) => void;

export class FrameReader {
  #pending: Buffer | null = null;

  constructor(private readonly onFrame: FrameHandler) {}

  /** Feeds bytes; calls the handler once per complete packet, in order. */
  push(chunk: Buffer): void {
    const buf = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk;
    let pos = 0;
    while (buf.length - pos >= 2) {
      let length = 0;
      let multiplier = 1;
      let i = pos + 1;
      let complete = false;
      // [MQTT-2.2.3] at most four bytes of Remaining Length.
      for (let n = 0; n < 4 && i < buf.length; n++) {
        const byte = buf[i++]!;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete) {
        if (i - pos > 4) throw new Error('malformed Remaining Length');
        break;
      }
      if (buf.length - i < length) break;
      const first = buf[pos]!;
      this.onFrame(first >> 4, first & 0x0f, buf.subarray(i, i + length));
      pos = i + length;
    }
    // Copy the partial tail so the (possibly large) chunk it came from can be freed.
    this.#pending = pos < buf.length ? Buffer.from(buf.subarray(pos)) : null;
  }
}

/** MQTT 3.1.1 control packet types used by the generator. */
export const PacketType = {
  CONNACK: 2,
  PUBLISH: 3,
  PUBACK: 4,
  SUBACK: 9,
  PINGRESP: 13,
} as const;
