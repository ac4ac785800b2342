/**
 * Follows MQTT packet framing (fixed header byte, then the Remaining Length
 * varint of [MQTT-2.2.3]) across TCP chunks, without parsing packets, so a
 * connection that announces a packet larger than the limit is cut before
 * the broker buffers it. A 256 MB "remaining length" would otherwise be
 * accumulated in memory byte by byte.
 *
 * @example const guard = new PacketSizeGuard(262144); if (!guard.feed(chunk)) socket.destroy();
 */
export class PacketSizeGuard {
  /** Bytes of the current packet's body still to skip. */
  #remaining = 0;
  /** In a header: -1 = expecting the type byte, 0..3 = varint bytes read so far. */
  #headerPos = -1;
  #length = 0;
  #multiplier = 1;

  constructor(private readonly maxPacketBytes: number) {}

  /** Consumes a chunk; false once a packet exceeds the limit or the framing is invalid. */
  feed(chunk: Buffer): boolean {
    let i = 0;
    while (i < chunk.length) {
      if (this.#remaining > 0) {
        const skip = Math.min(this.#remaining, chunk.length - i);
        this.#remaining -= skip;
        i += skip;
        continue;
      }
      const byte = chunk[i++]!;
      if (this.#headerPos === -1) {
        this.#headerPos = 0;
        this.#length = 0;
        this.#multiplier = 1;
        continue;
      }
      this.#length += (byte & 0x7f) * this.#multiplier;
      this.#multiplier *= 128;
      this.#headerPos++;
      if (byte & 0x80) {
        // [MQTT-2.2.3]: at most four length bytes.
        if (this.#headerPos >= 4) return false;
        continue;
      }
      // Fixed header = type byte + length bytes.
      if (this.#length + 1 + this.#headerPos > this.maxPacketBytes) return false;
      this.#remaining = this.#length;
      this.#headerPos = -1;
    }
    return true;
  }
}
