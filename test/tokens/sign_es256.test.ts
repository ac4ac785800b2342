import { createPrivateKey } from 'node:crypto';
import { exportJWK, generateKeyPair, jwtVerify } from 'jose';
import { expect, test } from 'vitest';
import { signEs256 } from '../../src/tokens/sign_es256.js';

test('signEs256 makes a JWS that jose verifies, header and claims intact', async () => {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const key = createPrivateKey({ key: (await exportJWK(privateKey)) as never, format: 'jwk' });
  const token = signEs256({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' }, { sub: 't1', scope: 'mqtt:publish:a/ü' }, key);
  const { payload, protectedHeader } = await jwtVerify(token, publicKey, { algorithms: ['ES256'], typ: 'at+jwt' });
  expect(protectedHeader).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' });
  expect(payload).toEqual({ sub: 't1', scope: 'mqtt:publish:a/ü' });
});
