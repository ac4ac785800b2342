import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/latchkey.js';
import { basic, postFrom } from './http.js';

const LIMIT = 3;
const WINDOW = 2; // seconds
const SLOW_DOWN = { error: 'slow_down', error_description: 'too many failed attempts, retry later' };
const GRANT = { grant_type: 'client_credentials' };

let t: TestServer;
let url: string;
let nextAddress = 2;
/** A loopback source address no other test has used, so per-address counts start at zero. */
const freshAddress = () => `127.0.0.${nextAddress++}`;

beforeAll(async () => {
  t = await startTestServer({ authFailureLimit: String(LIMIT), authFailureWindow: `${WINDOW}s` });
  url = `${t.baseUrl}/oauth/token`;
});
afterAll(async () => {
  await t.close();
});

function expectLocked(res: { status: number; json: unknown; headers: Headers }): void {
  expect(res.status).toBe(429);
  expect(res.json).toEqual(SLOW_DOWN);
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(WINDOW);
  expect(res.headers.get('cache-control')).toBe('no-store');
}

describe('brute-force protection (CONTRACT §4: 429 with Retry-After)', () => {
  it('per client: after LIMIT failures (from any addresses) even the right secret gets 429', async () => {
    const secret = t.createClient('bf-known', 'mqtt:publish:x');
    for (let i = 0; i < LIMIT; i++) {
      const res = await postFrom(freshAddress(), url, GRANT, { authorization: basic('bf-known', `guess-${i}`) });
      expect(res.status).toBe(401);
    }
    const locked = await postFrom(freshAddress(), url, GRANT, { authorization: basic('bf-known', secret) });
    expectLocked(locked);
    // Another client is not affected.
    const other = t.createClient('bf-bystander', 'mqtt:publish:x');
    expect((await postFrom(freshAddress(), url, GRANT, { authorization: basic('bf-bystander', other) })).status).toBe(200);
  });

  it('per client: an unknown client id locks out exactly like a known one', async () => {
    const answers = [];
    for (let i = 0; i < LIMIT; i++) answers.push(await postFrom(freshAddress(), url, GRANT, { authorization: basic('bf-ghost', `g${i}`) }));
    expect(answers.map((a) => a.status)).toEqual(Array(LIMIT).fill(401));
    expectLocked(await postFrom(freshAddress(), url, GRANT, { authorization: basic('bf-ghost', 'x') }));
  });

  it('per client: client_secret_post failures count too', async () => {
    const { client_secret } = t.server.registry.create({ id: 'bf-post', scope: 'mqtt:publish:x', authMethod: 'client_secret_post' }, 'test');
    for (let i = 0; i < LIMIT; i++) await postFrom(freshAddress(), url, { ...GRANT, client_id: 'bf-post', client_secret: 'nope' });
    expectLocked(await postFrom(freshAddress(), url, { ...GRANT, client_id: 'bf-post', client_secret: client_secret! }));
  });

  it('per address: failures across many client ids lock the address, not those clients elsewhere', async () => {
    const attacker = freshAddress();
    for (let i = 0; i < LIMIT; i++) {
      expect((await postFrom(attacker, url, GRANT, { authorization: basic(`bf-spray-${i}`, 'x') })).status).toBe(401);
    }
    const secret = t.createClient('bf-victim', 'mqtt:publish:x');
    expectLocked(await postFrom(attacker, url, GRANT, { authorization: basic('bf-victim', secret) }));
    expect((await postFrom(freshAddress(), url, GRANT, { authorization: basic('bf-victim', secret) })).status).toBe(200);
  });

  it('success clears the client count, and the lock lifts after the window', async () => {
    const secret = t.createClient('bf-flaky', 'mqtt:publish:x');
    for (let i = 0; i < LIMIT - 1; i++) await postFrom(freshAddress(), url, GRANT, { authorization: basic('bf-flaky', 'bad') });
    expect((await postFrom(freshAddress(), url, GRANT, { authorization: basic('bf-flaky', secret) })).status).toBe(200);
    for (let i = 0; i < LIMIT - 1; i++) await postFrom(freshAddress(), url, GRANT, { authorization: basic('bf-flaky', 'bad') });
    expect((await postFrom(freshAddress(), url, GRANT, { authorization: basic('bf-flaky', secret) })).status).toBe(200);

    for (let i = 0; i < LIMIT; i++) await postFrom(freshAddress(), url, GRANT, { authorization: basic('bf-flaky', 'bad') });
    expectLocked(await postFrom(freshAddress(), url, GRANT, { authorization: basic('bf-flaky', secret) }));
    await new Promise((r) => setTimeout(r, WINDOW * 1000 + 100));
    expect((await postFrom(freshAddress(), url, GRANT, { authorization: basic('bf-flaky', secret) })).status).toBe(200);
  });

  it('audits each lock-out refusal with the address', async () => {
    t.server.audit.flush();
    const refused = t.auditEvents({ principal: 'bf-known', event: 'token.refused', limit: 20 });
    expect(refused.map((e) => e.reason)).toContain('slow_down: rate limited (client_secret_basic)');
    expect(refused.every((e) => typeof e.remote === 'string' && e.remote.startsWith('127.0.0.'))).toBe(true);
  });

  it('introspection shares the same counters', async () => {
    const attacker = freshAddress();
    for (let i = 0; i < LIMIT; i++) await postFrom(attacker, `${t.baseUrl}/oauth/introspect`, { token: 'x' }, { authorization: basic(`bf-i-${i}`, 'x') });
    const secret = t.createClient('bf-intro', 'mqtt:publish:x');
    expectLocked(await postFrom(attacker, url, GRANT, { authorization: basic('bf-intro', secret) }));
  });
});
