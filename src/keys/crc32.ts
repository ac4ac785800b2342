/** The CRC-32 table (IEEE 802.3, reflected polynomial 0xEDB88320), built once. */
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC-32 (the zip/PNG one) of an ASCII string. Not a security check: it
 * only lets a typo be caught before any lookup, as GitHub's token checksum does.
 *
 * @example crc32('123456789') // 0xcbf43926
 */
export function crc32(text: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) crc = TABLE[(crc ^ text.charCodeAt(i)) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
