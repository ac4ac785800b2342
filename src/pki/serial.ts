import { randomBytes } from 'node:crypto';

/**
 * A fresh certificate serial number as lowercase hex.
 *
 * CA/Browser Forum BR §7.1 asks for at least 64 bits from a CSPRNG so that
 * serials cannot be predicted (which defeats chosen-prefix collision attacks);
 * we use 128. RFC 5280 §4.1.2.2 wants a positive INTEGER of at most 20 octets:
 * clearing the top bit keeps it positive, and forcing the next bit on keeps the
 * first octet non-zero, so the DER encoding is exactly 16 octets (126 random
 * bits) and the hex we store is the hex every parser will print back.
 *
 * @example randomSerial() // '5f0c…' (32 hex digits)
 */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString('hex');
}

/**
 * The canonical spelling of a serial number: lowercase hex, without
 * separators or leading zero octets. Operators paste serials from openssl
 * (`5F:0C:…`) or from our JSON (`5f0c…`); both name the same certificate.
 *
 * @example normalizeSerial('00:5F:0C') // '5f0c'
 */
export function normalizeSerial(serial: string): string {
  let hex = serial.replace(/[\s:]/g, '').toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex)) return '';
  if (hex.length % 2 === 1) hex = `0${hex}`;
  while (hex.length > 2 && hex.startsWith('00')) hex = hex.slice(2);
  return hex;
}
