import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/latchkey.js';
import { basic, postFrom, type HttpAnswer } from './http.js';

const LIMIT = 3; // per client id at one address
const ADDRESS_LIMIT = 6; // per address, any client ids
const WINDOW = 2; // seconds: the first lock lasts this long, the second twice as long
const SLOW_DOWN = { error: 'slow_down', error_description: 'too many failed attempts, retry later' };
const GRANT = { grant_type: 'client_credentials' };

let t: TestServer;
let url: string;
let nextAddress = 2;
/** A loopback source address no other test has used, so per-address counts start at zero. */
const freshAddress = () => `127.0.0.${nextAddress++}`;

beforeAll(async () => {
  t = await startTestServer({ authFailureLimit: String(LIMIT), authFailureAddressLimit: String(ADDRESS_LIMIT), authFailureWindow: `${WINDOW}s` });
  url = `${t.baseUrl}/oauth/token`;
});
afterAll(async () => {
  await t.close();
});

function retryAfterOf(res: HttpAnswer): number {
  return Number(res.headers.get('retry-after'));
}

function expectLocked(res: HttpAnswer, maxRetryAfter = WINDOW): void {
  expect(res.status).toBe(429);
  expect(res.json).toEqual(SLOW_DOWN);
  const retryAfter = retryAfterOf(res);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(maxRetryAfter);
  expect(res.headers.get('cache-control')).toBe('no-store');
}

/** Polls until `send` stops answering 429 (the lock lifted), with a generous deadline. */
async function untilUnlocked(send: () => Promise<HttpAnswer>, deadlineMs: number): Promise<HttpAnswer> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const res = await send();
    if (res.status !== 429 || Date.now() > end) return res;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('brute-force protection (docs/INTERFACE.md#oauth-over-http: 429 with Retry-After)', () => {
  it('per client and address: LIMIT failures from A lock the client out at A only; at B the right secret still works', async () => {
    const secret = t.createClient('bf-known', 'mqtt:publish:x');
    const attacker = freshAddress();
    for (let i = 0; i < LIMIT; i++) {
      expect((await postFrom(attacker, url, GRANT, { authorization: basic('bf-known', `guess-${i}`) })).status).toBe(401);
    }
    expectLocked(await postFrom(attacker, url, GRANT, { authorization: basic('bf-known', secret) }));
    // Client ids are not secret (they appear in topics): the attacker must not lock the device out where it lives.
    const device = freshAddress();
    expect((await postFrom(device, url, GRANT, { authorization: basic('bf-known', secret) })).status).toBe(200);
    // Another client at the attacker's address is not affected either (the address is below its own limit).
    const other = t.createClient('bf-bystander', 'mqtt:publish:x');
    expect((await postFrom(attacker, url, GRANT, { authorization: basic('bf-bystander', other) })).status).toBe(200);
  });

  it('failures spread over many addresses never lock the client out at its own address', async () => {
    const secret = t.createClient('bf-spread', 'mqtt:publish:x');
    for (let i = 0; i < LIMIT * 4; i++) {
      expect((await postFrom(freshAddress(), url, GRANT, { authorization: basic('bf-spread', 'x') })).status).toBe(401);
    }
    expect((await postFrom(freshAddress(), url, GRANT, { authorization: basic('bf-spread', secret) })).status).toBe(200);
  });

  it('an unknown client id locks out exactly like a known one', async () => {
    const attacker = freshAddress();
    const answers = [];
    for (let i = 0; i < LIMIT; i++) answers.push(await postFrom(attacker, url, GRANT, { authorization: basic('bf-ghost', `g${i}`) }));
    expect(answers.map((a) => a.status)).toEqual(Array(LIMIT).fill(401));
    expectLocked(await postFrom(attacker, url, GRANT, { authorization: basic('bf-ghost', 'x') }));
  });

  it('client_secret_post failures count too, against the same (client, address) as Basic ones', async () => {
    const { client_secret } = t.server.registry.create({ id: 'bf-post', scope: 'mqtt:publish:x', authMethod: 'client_secret_post' }, 'test');
    const attacker = freshAddress();
    await postFrom(attacker, url, GRANT, { authorization: basic('bf-post', 'nope') });
    for (let i = 1; i < LIMIT; i++) await postFrom(attacker, url, { ...GRANT, client_id: 'bf-post', client_secret: 'nope' });
    expectLocked(await postFrom(attacker, url, { ...GRANT, client_id: 'bf-post', client_secret: client_secret! }));
  });

  it('per address: failures across many client ids lock the address, not those clients elsewhere', async () => {
    const attacker = freshAddress();
    for (let i = 0; i < ADDRESS_LIMIT; i++) {
      expect((await postFrom(attacker, url, GRANT, { authorization: basic(`bf-spray-${i}`, 'x') })).status).toBe(401);
    }
    const secret = t.createClient('bf-victim', 'mqtt:publish:x');
    expectLocked(await postFrom(attacker, url, GRANT, { authorization: basic('bf-victim', secret) }));
    expect((await postFrom(freshAddress(), url, GRANT, { authorization: basic('bf-victim', secret) })).status).toBe(200);
  });

  it('one broken device does not lock its neighbours behind the same address (NAT) out', async () => {
    const site = freshAddress();
    const neighbour = t.createClient('bf-neighbour', 'mqtt:publish:x');
    for (let i = 0; i < LIMIT; i++) await postFrom(site, url, GRANT, { authorization: basic('bf-broken', 'stale') });
    expectLocked(await postFrom(site, url, GRANT, { authorization: basic('bf-broken', 'stale') }));
    expect((await postFrom(site, url, GRANT, { authorization: basic('bf-neighbour', neighbour) })).status).toBe(200);
  });

  it('back-off grows: the second lock of a (client, address) lasts twice as long as the first', async () => {
    const secret = t.createClient('bf-backoff', 'mqtt:publish:x');
    const attacker = freshAddress();
    const guess = () => postFrom(attacker, url, GRANT, { authorization: basic('bf-backoff', 'bad') });
    for (let i = 0; i < LIMIT; i++) expect((await guess()).status).toBe(401);
    const first = await guess();
    expectLocked(first, WINDOW);

    // Wait for the first lock to lift, then fail again: the next lock is longer.
    const lifted = await untilUnlocked(guess, WINDOW * 1000 + 5000);
    expect(lifted.status).toBe(401);
    for (let i = 1; i < LIMIT; i++) expect((await guess()).status).toBe(401);
    const second = await guess();
    expect(second.status).toBe(429);
    expect(retryAfterOf(second)).toBeGreaterThan(WINDOW);
    expect(retryAfterOf(second)).toBeLessThanOrEqual(2 * WINDOW);
    // Even now, the device itself at another address is fine.
    expect((await postFrom(freshAddress(), url, GRANT, { authorization: basic('bf-backoff', secret) })).status).toBe(200);
  });

  it('success clears the count, and the lock lifts after the window', async () => {
    const secret = t.createClient('bf-flaky', 'mqtt:publish:x');
    const at = (address: string) => (s: string) => postFrom(address, url, GRANT, { authorization: basic('bf-flaky', s) });
    const flaky = at(freshAddress());
    for (let i = 0; i < LIMIT - 1; i++) await flaky('bad');
    expect((await flaky(secret)).status).toBe(200);
    for (let i = 0; i < LIMIT - 1; i++) await flaky('bad');
    expect((await flaky(secret)).status).toBe(200);

    const locked = at(freshAddress());
    for (let i = 0; i < LIMIT; i++) await locked('bad');
    expectLocked(await locked(secret));
    await new Promise((r) => setTimeout(r, WINDOW * 1000 + 100));
    expect((await untilUnlocked(() => locked(secret), 5000)).status).toBe(200);
  });

  it('audits each lock-out refusal with the address', async () => {
    t.server.audit.flush();
    const refused = t.auditEvents({ principal: 'bf-known', event: 'token.refused', limit: 20 });
    expect(refused.map((e) => e.reason)).toContain('slow_down: rate limited (client_secret_basic)');
    expect(refused.every((e) => typeof e.remote === 'string' && e.remote.startsWith('127.0.0.'))).toBe(true);
  });

  it('introspection shares the same counters', async () => {
    const attacker = freshAddress();
    for (let i = 0; i < ADDRESS_LIMIT; i++) await postFrom(attacker, `${t.baseUrl}/oauth/introspect`, { token: 'x' }, { authorization: basic(`bf-i-${i}`, 'x') });
    const secret = t.createClient('bf-intro', 'mqtt:publish:x');
    expectLocked(await postFrom(attacker, url, GRANT, { authorization: basic('bf-intro', secret) }));
  });
});
