import { type KeyObject, sign } from 'node:crypto';

/**
 * Signs a compact JWS with ES256 (RFC 7515 §7.1, RFC 7518 §3.4: the
 * signature is raw r‖s) using node:crypto, synchronously. The token
 * endpoint signs once per request: this is about twice as fast as going
 * through WebCrypto, with the same OpenSSL underneath. Tokens it makes are
 * verified by jose in the tests.
 *
 * @example signEs256({ alg: 'ES256', typ: 'at+jwt', kid }, claims, ring.current.signingKey)
 */
export function signEs256(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject): string {
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  const signature = sign('sha256', Buffer.from(input, 'ascii'), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
