import { createPublicKey } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { beforeAll, describe, expect, test } from 'vitest';
import { verifyEs256 } from '../../src/tokens/verify_es256.js';

let token: string;
let key: ReturnType<typeof createPublicKey>;
let otherKeyToken: string;

beforeAll(async () => {
  const mine = await generateKeyPair('ES256');
  const other = await generateKeyPair('ES256');
  token = await new SignJWT({ sub: 't1' }).setProtectedHeader({ alg: 'ES256' }).sign(mine.privateKey);
  otherKeyToken = await new SignJWT({ sub: 't1' }).setProtectedHeader({ alg: 'ES256' }).sign(other.privateKey);
  key = createPublicKey({ key: (await exportJWK(mine.publicKey)) as never, format: 'jwk' });
});

describe('verifyEs256', () => {
  test('accepts a token jose signed with the key', () => {
    expect(verifyEs256(token, key)).toBe(true);
  });

  test.each([
    ['a tampered payload', () => { const [h, , s] = token.split('.'); return `${h}.${Buffer.from('{"sub":"t2"}').toString('base64url')}.${s}`; }],
    ['another key', () => otherKeyToken],
    ['r = s = 0', () => `${token.slice(0, token.lastIndexOf('.'))}.${Buffer.alloc(64).toString('base64url')}`],
    ['a DER signature', () => `${token.slice(0, token.lastIndexOf('.'))}.${Buffer.alloc(70, 1).toString('base64url')}`],
    ['an empty signature', () => token.slice(0, token.lastIndexOf('.') + 1)],
  ])('refuses %s', (_name, make) => {
    expect(verifyEs256(make(), key)).toBe(false);
  });
});
