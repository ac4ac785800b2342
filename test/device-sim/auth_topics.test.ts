import { describe, expect, it } from 'vitest';
import { accessToken, isNearExpiry } from '../../device-sim/lib/access_token.js';
import { authTopics, parseCertRenewResponse, parseClaimResponse, parseExpiring, parseReauthResponse, parseTokenResponse } from '../../device-sim/lib/auth_topics.js';
import { peekClaims } from '../../device-sim/lib/jwt_claims.js';
import { PendingRequests } from '../../device-sim/lib/pending_requests.js';

const jwt = (claims: object): string =>
  `${Buffer.from('{"alg":"ES256"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

describe('$auth topics (docs/INTERFACE.md#renewing-over-mqtt)', () => {
  it('names every topic under the device\'s own id', () => {
    expect(authTopics('t1')).toEqual({
      all: '$auth/t1/#',
      expiring: '$auth/t1/expiring',
      tokenRequest: '$auth/t1/token/request',
      tokenResponse: '$auth/t1/token/response',
      reauth: '$auth/t1/reauth',
      reauthResponse: '$auth/t1/reauth/response',
      certRenew: '$auth/t1/cert/renew',
      certRenewResponse: '$auth/t1/cert/renew/response',
      claimRequest: '$auth/t1/claim/request',
      claimResponse: '$auth/t1/claim/response',
    });
  });

  it('parses what docs/INTERFACE.md#renewing-over-mqtt says and nothing else', () => {
    const rows: Array<{ name: string; parse: (p: string) => unknown; payload: string; expected: unknown }> = [
      { name: 'expiring', parse: parseExpiring, payload: '{"exp":100,"seconds_left":30}', expected: { exp: 100, seconds_left: 30 } },
      { name: 'expiring for a certificate', parse: parseExpiring, payload: '{"exp":100,"seconds_left":30,"credential":"certificate"}', expected: { exp: 100, seconds_left: 30, credential: 'certificate' } },
      { name: 'cert/renew answer', parse: parseCertRenewResponse, payload: '{"request_id":"r","certificate":"PEM","not_after":"2030-01-01T00:00:00.000Z"}', expected: { request_id: 'r', certificate: 'PEM', not_after: '2030-01-01T00:00:00.000Z' } },
      { name: 'cert/renew error', parse: parseCertRenewResponse, payload: '{"request_id":"r","error":"invalid_csr"}', expected: { request_id: 'r', error: 'invalid_csr' } },
      { name: 'cert/renew without not_after', parse: parseCertRenewResponse, payload: '{"request_id":"r","certificate":"PEM"}', expected: null },
      { name: 'claim answer', parse: parseClaimResponse, payload: '{"request_id":"r","claim":"lk_clm_x","onboarding":"latchkey://onboard?x","expires_at":"t"}', expected: { request_id: 'r', claim: 'lk_clm_x', onboarding: 'latchkey://onboard?x', expires_at: 't' } },
      { name: 'claim refused', parse: parseClaimResponse, payload: '{"request_id":"r","error":"insufficient_scope","error_description":"no"}', expected: { request_id: 'r', error: 'insufficient_scope', error_description: 'no' } },
      { name: 'expiring without seconds_left', parse: parseExpiring, payload: '{"exp":100}', expected: null },
      { name: 'expiring not JSON', parse: parseExpiring, payload: 'soon', expected: null },
      {
        name: 'token response',
        parse: parseTokenResponse,
        payload: '{"request_id":"r1","access_token":"a.b.c","token_type":"Bearer","expires_in":60,"scope":"s"}',
        expected: { request_id: 'r1', access_token: 'a.b.c', token_type: 'Bearer', expires_in: 60, scope: 's' },
      },
      {
        name: 'token error',
        parse: parseTokenResponse,
        payload: '{"request_id":"r1","error":"slow_down","error_description":"one renewal per second"}',
        expected: { request_id: 'r1', error: 'slow_down', error_description: 'one renewal per second' },
      },
      { name: 'token response without request_id', parse: parseTokenResponse, payload: '{"access_token":"a.b.c"}', expected: null },
      { name: 'token response array', parse: parseTokenResponse, payload: '[1]', expected: null },
      { name: 'reauth ok', parse: parseReauthResponse, payload: '{"request_id":"r2","ok":true,"exp":5}', expected: { request_id: 'r2', ok: true, exp: 5 } },
      { name: 'reauth error', parse: parseReauthResponse, payload: '{"request_id":"r2","error":"invalid_token"}', expected: { request_id: 'r2', error: 'invalid_token' } },
      { name: 'reauth ok:"yes"', parse: parseReauthResponse, payload: '{"request_id":"r2","ok":"yes"}', expected: null },
    ];
    for (const row of rows) expect(row.parse(row.payload), row.name).toEqual(row.expected);
  });
});

describe('access tokens as the device sees them', () => {
  it('takes exp and jti from the JWT and ignores what is not a JWT', () => {
    expect(peekClaims(jwt({ jti: 'j1', exp: 1000, scope: 's' }))).toEqual({ jti: 'j1', exp: 1000, scope: 's' });
    expect(peekClaims('opaque')).toEqual({});
    expect(peekClaims('a.!!!.c')).toEqual({});
    expect(accessToken(jwt({ jti: 'j1', exp: 1000 }), 5, undefined, 0)).toMatchObject({ jti: 'j1', expiresAt: 1_000_000 });
    expect(accessToken('opaque', 60, 'scope', 1000)).toEqual({ value: 'opaque', expiresAt: 61_000, scope: 'scope' });
  });

  it('is near expiry within the margin', () => {
    const token = accessToken('opaque', 10, undefined, 0);
    expect(isNearExpiry(token, 5_000, 4_000)).toBe(false);
    expect(isNearExpiry(token, 5_000, 5_000)).toBe(true);
  });
});

describe('PendingRequests', () => {
  it('settles by request id, drops unknown ids and times out', async () => {
    const pending = new PendingRequests<string>();
    const a = pending.open(1_000);
    const b = pending.open(20);
    expect(a.id).not.toBe(b.id);
    expect(pending.settle('unknown', 'x')).toBe(false);
    expect(pending.settle(a.id, 'answer')).toBe(true);
    expect(pending.settle(a.id, 'again')).toBe(false);
    await expect(a.answer).resolves.toBe('answer');
    await expect(b.answer).rejects.toThrow(/no answer/);
    const c = pending.open(1_000);
    pending.failAll('session closed');
    await expect(c.answer).rejects.toThrow('session closed');
  });
});
