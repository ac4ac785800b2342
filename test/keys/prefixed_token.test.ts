import { describe, expect, it } from 'vitest';
import { crc32 } from '../../src/keys/crc32.js';
import {
  base62Checksum,
  checkPrefixedToken,
  generatePrefixedToken,
  prefixedTokenKind,
  randomBase62,
  RANDOM_LENGTH,
  TOKEN_PREFIX,
} from '../../src/keys/prefixed_token.js';

/** Replaces the character at `i` with a different base62 character. */
function typo(token: string, i: number): string {
  const c = token[i]!;
  const replacement = c === 'a' ? 'b' : 'a';
  return token.slice(0, i) + replacement + token.slice(i + 1);
}

describe('crc32', () => {
  it.each([
    ['', 0],
    ['a', 0xe8b7be43],
    ['123456789', 0xcbf43926],
    ['The quick brown fox jumps over the lazy dog', 0x414fa339],
  ])('crc32(%j) = %i', (text, expected) => {
    expect(crc32(text)).toBe(expected);
  });
});

describe('base62 checksum', () => {
  it.each([
    [0, '000000'],
    [61, '00000z'],
    [62, '000010'],
    [0xffffffff, '4gfFC3'],
  ])('%i -> %s', (value, expected) => {
    expect(base62Checksum(value)).toBe(expected);
  });
});

describe('prefixed tokens', () => {
  it.each(['pat', 'key', 'clm'] as const)('a new %s token has its prefix, 32 random base62 characters and a valid checksum', (kind) => {
    const token = generatePrefixedToken(kind);
    expect(token.startsWith(TOKEN_PREFIX[kind])).toBe(true);
    expect(token).toMatch(/^lk_(pat|key|clm)_[0-9A-Za-z]{38}$/);
    expect(token.length).toBe(TOKEN_PREFIX[kind].length + RANDOM_LENGTH + 6);
    expect(checkPrefixedToken(token)).toEqual({ ok: true, kind });
    expect(prefixedTokenKind(token)).toBe(kind);
  });

  it('tokens do not repeat', () => {
    const seen = new Set(Array.from({ length: 1000 }, () => generatePrefixedToken('pat')));
    expect(seen.size).toBe(1000);
  });

  it('random base62 uses the whole alphabet, roughly evenly', () => {
    const counts = new Map<string, number>();
    for (const c of randomBase62(62_000)) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    for (const n of counts.values()) expect(n).toBeGreaterThan(700); // mean 1000
  });

  const good = generatePrefixedToken('pat');
  it.each([
    ['prefix/jwt', 'eyJhbGciOiJFUzI1NiJ9.e30.sig', 'prefix'],
    ['prefix/other', `lk_xyz_${good.slice(7)}`, 'prefix'],
    ['length/truncated', good.slice(0, -1), 'length'],
    ['length/extra', `${good}a`, 'length'],
    ['charset/dash', `${good.slice(0, 10)}-${good.slice(11)}`, 'charset'],
    ['checksum/typo-in-random', typo(good, 12), 'checksum'],
    ['checksum/typo-in-checksum', typo(good, good.length - 1), 'checksum'],
    ['checksum/prefix-swapped', `lk_key_${good.slice(7)}`, 'checksum'],
  ])('refuses %s', (_name, text, problem) => {
    expect(checkPrefixedToken(text)).toEqual({ ok: false, problem });
  });

  it('catches every single-character typo in the random part', () => {
    for (let i = TOKEN_PREFIX.pat.length; i < good.length - 6; i++) {
      expect(checkPrefixedToken(typo(good, i)).ok).toBe(false);
    }
  });
});
