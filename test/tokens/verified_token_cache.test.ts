import { describe, expect, test } from 'vitest';
import type { AccessTokenClaims } from '../../src/tokens/access_token_checks.js';
import { VerifiedTokenCache } from '../../src/tokens/verified_token_cache.js';

const claims = (exp: number, jti = 'j'): AccessTokenClaims => ({ iss: 'i', sub: 's', aud: 'a', client_id: 's', scope: '', iat: 0, exp, jti });

describe('VerifiedTokenCache', () => {
  test('a verified token is found again until it expires', () => {
    const cache = new VerifiedTokenCache();
    cache.set('a.b.c', claims(100));
    expect(cache.get('a.b.c', 99)?.exp).toBe(100);
    expect(cache.get('a.b.c', 100)).toBeUndefined();
    // Expired entries are dropped, not kept around.
    expect(cache.get('a.b.c', 50)).toBeUndefined();
  });

  test('an unknown or altered token misses', () => {
    const cache = new VerifiedTokenCache();
    cache.set('a.b.c', claims(100));
    expect(cache.get('a.b.d', 1)).toBeUndefined();
  });

  test('capacity evicts the oldest entry first', () => {
    const cache = new VerifiedTokenCache(2);
    cache.set('t1', claims(100, '1'));
    cache.set('t2', claims(100, '2'));
    cache.set('t3', claims(100, '3'));
    expect(cache.get('t1', 1)).toBeUndefined();
    expect(cache.get('t2', 1)?.jti).toBe('2');
    expect(cache.get('t3', 1)?.jti).toBe('3');
  });

  test('keeps only what a session is built from, the certificate binding included', () => {
    const cache = new VerifiedTokenCache();
    cache.set('t', { ...claims(100, 'j9'), cnf: { 'x5t#S256': 'thumb' } });
    expect(cache.get('t', 1)).toEqual({ sub: 's', jti: 'j9', scope: '', iat: 0, exp: 100, cnf: { 'x5t#S256': 'thumb' } });
    cache.set('u', claims(100, 'j8'));
    expect(cache.get('u', 1)).toEqual({ sub: 's', jti: 'j8', scope: '', iat: 0, exp: 100 });
  });
});
