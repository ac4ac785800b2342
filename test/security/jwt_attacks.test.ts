import { CompactSign, generateKeyPair, importJWK, type JWK, SignJWT, exportJWK } from 'jose';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/latchkey.js';
import { connackCode, connect, connectDevice, eventually, refusalCode } from '../helpers/mqtt.js';

/**
 * Forged and broken tokens at the MQTT door (issue 8). Each must get the
 * exact CONNACK code, and the broker must keep serving a good client after.
 */
const SCOPE = 'mqtt:publish:home/{client_id}/telemetry';
const ISSUER = 'http://latchkey.test';
const AUDIENCE = 'urn:latchkey:mqtt';

let lk: TestServer;
let secret: string;
let serverKey: CryptoKey;
let serverPublicJwk: JWK;
let kid: string;
let keyServer: Server;
let keyServerHits = 0;

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const base: Record<string, unknown> = { iss: ISSUER, sub: 't1', aud: AUDIENCE, client_id: 't1', scope: SCOPE, iat: now, exp: now + 300, jti: `j${Math.random()}` };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  return base;
}

/** Signs `payload` with the server's own key, so only the named defect is wrong. */
async function signed(payload: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  return new CompactSign(Buffer.from(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid, ...header } as never)
    .sign(serverKey);
}

/** Signs any header as given (jose refuses to produce some of these). */
async function rawSigned(header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string> {
  const input = `${b64(header)}.${b64(payload)}`;
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, serverKey, new TextEncoder().encode(input));
  return `${input}.${Buffer.from(signature).toString('base64url')}`;
}

beforeAll(async () => {
  lk = await startTestServer();
  secret = lk.createClient('t1', SCOPE);
  lk.createClient('t2', SCOPE);
  const record = lk.server.store.signingKeys.published(Date.now())[0]!;
  kid = record.kid;
  serverKey = (await importJWK(JSON.parse(record.privateJwk) as JWK, 'ES256')) as CryptoKey;
  serverPublicJwk = JSON.parse(record.publicJwk) as JWK;
  keyServer = createServer((_req, res) => {
    keyServerHits++;
    res.end('{}');
  });
  await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  keyServer.close();
  await lk.close();
});

async function codeFor(token: string, clientId = 't1'): Promise<number> {
  return refusalCode(connect(lk.mqttUrl, { clientId, username: clientId, password: token }));
}

describe('forged tokens get CONNACK 4', () => {
  const cases: [string, string, () => Promise<string>][] = [
    ...['none', 'None', 'NONE', 'nOnE'].map((alg): [string, string, () => Promise<string>] => [
      `alg ${alg}`, 'unsupported_alg',
      async () => `${b64({ alg, typ: 'at+jwt', kid })}.${b64(claims())}.${b64('sig')}`,
    ]),
    [
      'HS256 signed with the server public key as the HMAC secret', 'unsupported_alg',
      async () => {
        const hmacKey = new TextEncoder().encode(JSON.stringify(serverPublicJwk));
        return new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid }).sign(hmacKey);
      },
    ],
    ['alg none with an empty signature', 'malformed', async () => `${b64({ alg: 'none', typ: 'at+jwt', kid })}.${b64(claims())}.`],
    [
      "an attacker's ES256 key under the server kid", 'bad_signature',
      async () => {
        const { privateKey } = await generateKeyPair('ES256');
        return new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid }).sign(privateKey);
      },
    ],
    [
      'an embedded jwk header with the attacker key', 'forbidden_header',
      async () => {
        const { privateKey, publicKey } = await generateKeyPair('ES256');
        return new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid, jwk: await exportJWK(publicKey) }).sign(privateKey);
      },
    ],
    ['jku pointing at a local server', 'forbidden_header', async () => signed(claims(), { jku: `http://127.0.0.1:${(keyServer.address() as AddressInfo).port}/jwks` })],
    ['x5u pointing at a local server', 'forbidden_header', async () => signed(claims(), { x5u: `http://127.0.0.1:${(keyServer.address() as AddressInfo).port}/cert` })],
    ['an unknown kid', 'unknown_kid', async () => signed(claims(), { kid: 'no-such-key' })],
    ['expired', 'expired', async () => signed(claims({ exp: Math.floor(Date.now() / 1000) - 5 }))],
    ['nbf in the future', 'not_yet_valid', async () => signed(claims({ nbf: Math.floor(Date.now() / 1000) + 600 }))],
    ['missing exp', 'missing_claim', async () => signed(claims({ exp: undefined }))],
    ['missing jti', 'missing_claim', async () => signed(claims({ jti: undefined }))],
    ['wrong aud', 'wrong_audience', async () => signed(claims({ aud: 'urn:someone:else' }))],
    ['wrong iss', 'wrong_issuer', async () => signed(claims({ iss: 'https://evil.example' }))],
    ['wrong typ (JWT)', 'wrong_typ', async () => signed(claims(), { typ: 'JWT' })],
    ['a crit header', 'forbidden_header', async () => rawSigned({ alg: 'ES256', typ: 'at+jwt', kid, crit: ['urn:x'], 'urn:x': 1 }, claims())],
    [
      'a zero signature (r = s = 0)', 'bad_signature',
      async () => `${b64({ alg: 'ES256', typ: 'at+jwt', kid })}.${b64(claims())}.${Buffer.alloc(64).toString('base64url')}`,
    ],
    [
      'non-base64url characters', 'malformed',
      async () => {
        const [h, p, s] = (await signed(claims())).split('.');
        return `${h}.${p}+/=.${s}`;
      },
    ],
    ['a 64 KB password', 'password too large', async () => 'A'.repeat(65_000)],
  ];

  test.each(cases)('%s (%s)', async (_name, reason, make) => {
    const since = Date.now();
    expect(await codeFor(await make())).toBe(4);
    // The audit names the defence that refused it, not merely a later one. Look for it among
    // this case's refusals: a row folding an earlier case's refusals is dated when its second
    // ends, so it can be newer than this one.
    const expected = reason === 'password too large' ? reason : `token ${reason}`;
    const named = () => lk.auditEvents({ event: 'mqtt.connect', principal: 't1', since, limit: 20 });
    await eventually(() => named().some((e) => e.reason?.startsWith(expected)), 3000, `a refusal audited as "${expected}"`);
    // The broker still serves a well-behaved client.
    const good = await connectDevice(lk.mqttUrl, 't1', (await lk.token('t1', secret)).access_token);
    await good.endAsync();
  });

  test('jku and x5u were never fetched', () => {
    expect(keyServerHits).toBe(0);
  });
});

describe('valid tokens used wrongly', () => {
  test("another client's token: 4 under its username, 2 under its own username with our client id", async () => {
    const t1Token = (await lk.token('t1', secret)).access_token;
    expect(await codeFor(t1Token, 't2')).toBe(4);
    expect(await refusalCode(connect(lk.mqttUrl, { clientId: 't2', username: 't1', password: t1Token }))).toBe(2);
  });

  test('a revoked jti: 5', async () => {
    const token = (await lk.token('t1', secret)).access_token;
    const jti = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;
    const cli = await lk.cli('token', 'revoke', jti, '--json');
    expect(cli.code).toBe(0);
    // Another process's change reaches the server within a poll; poll for the refusal instead of sleeping a guess.
    await eventually(async () => (await connackCode(connect(lk.mqttUrl, { clientId: 't1', username: 't1', password: token }))) === 5, 5000, 'CONNACK 5');
    expect(await codeFor(token)).toBe(5);
  });

  test('a disabled client: 5, and enabled again: accepted', async () => {
    const token = (await lk.token('t1', secret)).access_token;
    lk.server.registry.setStatus('t1', 'disabled', 'test');
    expect(await codeFor(token)).toBe(5);
    lk.server.registry.setStatus('t1', 'enabled', 'test');
    const ok = await connectDevice(lk.mqttUrl, 't1', token);
    await ok.endAsync();
  });
});
