import { randomBytes } from 'node:crypto';
import { crc32 } from './crc32.js';

/**
 * Personal access tokens, API keys and onboarding claims:
 *
 *   lk_pat_<32 random base62><6 base62 checksum>
 *   lk_key_<32 random base62><6 base62 checksum>
 *   lk_mqp_<32 random base62><6 base62 checksum>   (static MQTT password of a stock device)
 *   lk_clm_<32 random base62><6 base62 checksum>   (onboarding claim)
 *
 * The prefix lets secret scanners find leaked tokens; the checksum is the
 * CRC-32 of everything before it (prefix and random part) in base62, so a
 * mistyped or truncated token is refused before any database lookup. The
 * random part carries 32 × log2(62) ≈ 190 bits from the CSPRNG.
 */
export type PrefixedTokenKind = 'pat' | 'key' | 'mqp' | 'clm';

export const TOKEN_PREFIX: Readonly<Record<PrefixedTokenKind, string>> = { pat: 'lk_pat_', key: 'lk_key_', mqp: 'lk_mqp_', clm: 'lk_clm_' };

export const RANDOM_LENGTH = 32;
export const CHECKSUM_LENGTH = 6;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BASE62_RUN = /^[0-9A-Za-z]+$/;

/** Why a string is not a well-formed token; safe to audit (it says nothing about any secret). */
export type TokenFormatProblem = 'prefix' | 'length' | 'charset' | 'checksum';

export type TokenFormatCheck = { ok: true; kind: PrefixedTokenKind } | { ok: false; problem: TokenFormatProblem };

/**
 * `length` characters drawn uniformly from base62 with the CSPRNG. Bytes of
 * 248 and above are rejected so that `byte % 62` has no bias.
 *
 * @example randomBase62(12) // 'q3ZbT0xk9LmA'
 */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte >= 248) continue;
      out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** A 32-bit number as exactly six base62 digits (62^6 > 2^32), zero-padded. */
export function base62Checksum(value: number): string {
  let n = value >>> 0;
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[n % 62]! + out;
    n = Math.floor(n / 62);
  }
  return out;
}

function checksumOf(body: string): string {
  return base62Checksum(crc32(body));
}

/**
 * A new token of `kind`. Shown once; only its SHA-256 hash is stored.
 *
 * @example generatePrefixedToken('pat') // 'lk_pat_…' (45 characters)
 */
export function generatePrefixedToken(kind: PrefixedTokenKind): string {
  const body = TOKEN_PREFIX[kind] + randomBase62(RANDOM_LENGTH);
  return body + checksumOf(body);
}

/** The kind a string claims by its prefix alone (cheap; for choosing a resolver). */
export function prefixedTokenKind(text: string): PrefixedTokenKind | null {
  if (text.startsWith(TOKEN_PREFIX.pat)) return 'pat';
  if (text.startsWith(TOKEN_PREFIX.key)) return 'key';
  if (text.startsWith(TOKEN_PREFIX.mqp)) return 'mqp';
  if (text.startsWith(TOKEN_PREFIX.clm)) return 'clm';
  return null;
}

/**
 * Checks a presented token's shape and checksum without any lookup.
 * The checksum is not secret (anyone can compute it), so a plain compare
 * leaks nothing; the secret is checked later by hash.
 *
 * @example checkPrefixedToken(token) // { ok: true, kind: 'pat' }
 */
export function checkPrefixedToken(text: string): TokenFormatCheck {
  const kind = prefixedTokenKind(text);
  if (kind === null) return { ok: false, problem: 'prefix' };
  const prefix = TOKEN_PREFIX[kind];
  if (text.length !== prefix.length + RANDOM_LENGTH + CHECKSUM_LENGTH) return { ok: false, problem: 'length' };
  if (!BASE62_RUN.test(text.slice(prefix.length))) return { ok: false, problem: 'charset' };
  const body = text.slice(0, -CHECKSUM_LENGTH);
  if (checksumOf(body) !== text.slice(-CHECKSUM_LENGTH)) return { ok: false, problem: 'checksum' };
  return { ok: true, kind };
}

/**
 * What a list may show of a token: its prefix and last four characters.
 *
 * @example redactToken('lk_key_…9aZq') // 'lk_key_…9aZq'
 */
export function redactToken(prefix: string, last4: string): string {
  return `${prefix}…${last4}`;
}
