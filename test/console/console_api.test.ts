import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleSessions } from '../../src/console/console_sessions.js';
import { createLoginLink } from '../../src/console/login_links.js';
import { startTestServer, type TestServer } from '../helpers/latchkey.js';
import { closedWithin, connectDevice, eventually, refusalCode } from '../helpers/mqtt.js';
import { caPemOf, httpsCall } from '../helpers/mtls.js';

let t: TestServer;
let writerPat: string;
let readerPat: string;

/** The login link secret from `latchkey console --json` (another process, as an operator runs it). */
async function loginLink(...args: string[]): Promise<string> {
  const result = await t.cli('console', '--json', ...args);
  expect(result.code).toBe(0);
  const { url } = JSON.parse(result.stdout) as { url: string };
  return /#login=(.+)$/.exec(url)![1]!;
}

interface Login {
  cookie: string;
  csrf: string;
  setCookie: string;
  access: string;
}

async function login(body: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${t.baseUrl}/console/api/login`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

async function loggedIn(body: Record<string, string>): Promise<Login> {
  const res = await login(body);
  expect(res.status).toBe(200);
  const setCookie = res.headers.get('set-cookie')!;
  const me = (await res.json()) as { csrf: string; access: string };
  return { cookie: setCookie.split(';')[0]!, csrf: me.csrf, setCookie, access: me.access };
}

function call(session: Login, method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<Response> {
  return fetch(`${t.baseUrl}${path}`, {
    method,
    headers: {
      cookie: session.cookie,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...extra,
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

beforeAll(async () => {
  t = await startTestServer();
  const { users, pats } = t.server.people;
  users.create({ name: 'olga', scope: 'admin:write' }, 'test');
  users.create({ name: 'rita', scope: 'admin:read mqtt:subscribe:#' }, 'test');
  users.create({ name: 'mallory', scope: 'mqtt:subscribe:#' }, 'test');
  writerPat = pats.create({ user: 'olga', name: 'console', scope: 'admin:write' }, 'test').token;
  readerPat = pats.create({ user: 'rita', name: 'console', scope: 'admin:read' }, 'test').token;
});
afterAll(async () => {
  await t?.close();
});

describe('console login', () => {
  it('a `latchkey console` link logs in once: the cookie is HttpOnly and SameSite=Strict; reuse is refused', async () => {
    const link = await loginLink();
    const session = await loggedIn({ link });
    expect(session.access).toBe('write');
    expect(session.setCookie).toMatch(/^lk_console=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
    const again = await login({ link });
    expect(again.status).toBe(401);
    expect(await again.json()).toMatchObject({ error: 'invalid_token' });
    // Only the hash is stored.
    const row = t.server.store.db.prepare('SELECT hash FROM console_logins').all() as { hash: Buffer }[];
    expect(row.every((r) => !r.hash.toString('latin1').includes(link))).toBe(true);
  });

  it('an expired link is refused', async () => {
    const { secret } = createLoginLink(t.server.store, t.server.audit, null, 'test', Date.now() - 6 * 60_000);
    expect((await login({ link: secret })).status).toBe(401);
  });

  it('--user logs in as that user, with that user\'s admin access; a user without admin scope gets no link', async () => {
    const session = await loggedIn({ link: await loginLink('--user', 'rita') });
    expect(session.access).toBe('read');
    const refused = await t.cli('console', '--user', 'mallory');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/admin:read/);
  });

  it('a pasted PAT with admin:read logs in read-only; one without an admin scope is refused (403)', async () => {
    expect((await loggedIn({ token: readerPat })).access).toBe('read');
    const { token } = t.server.people.pats.create({ user: 'mallory', name: 'mqtt', scope: 'mqtt:subscribe:#' }, 'test');
    expect((await login({ token })).status).toBe(403);
    expect((await login({ token: 'lk_pat_nonsense' })).status).toBe(401);
  });

  it('a login from another origin is refused (login CSRF)', async () => {
    expect((await login({ token: writerPat }, { origin: 'https://evil.example' })).status).toBe(403);
  });
});

describe('console over HTTPS', () => {
  it('serves the console on the HTTPS port, and its session cookie is Secure there', async () => {
    const ca = caPemOf(t);
    const page = await httpsCall(`${t.httpsUrl}/console`, { ca });
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    const answer = await httpsJson(`${t.httpsUrl}/console/api/login`, ca, { token: writerPat });
    expect(answer.status).toBe(200);
    expect(answer.setCookie).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
  });
});

describe('the admin API with the console session', () => {
  it('reads with the cookie; every change needs the CSRF token, and a same-origin Origin', async () => {
    const s = await loggedIn({ token: writerPat });
    expect((await call(s, 'GET', '/admin/clients')).status).toBe(200);
    const body = { client_id: 'csrf-dev', scope: 'mqtt:publish:x/{client_id}' };
    expect((await call(s, 'POST', '/admin/clients', body)).status).toBe(403);
    expect((await call(s, 'POST', '/admin/clients', body, { 'x-csrf-token': 'wrong' })).status).toBe(403);
    expect((await call(s, 'POST', '/admin/clients', body, { 'x-csrf-token': s.csrf, origin: 'http://evil.example' })).status).toBe(403);
    expect(t.server.store.clients.get('csrf-dev')).toBeUndefined();
    const ok = await call(s, 'POST', '/admin/clients', body, { 'x-csrf-token': s.csrf, origin: t.baseUrl });
    expect(ok.status).toBe(201);
    expect(((await ok.json()) as { client_secret: string }).client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const denied = t.auditEvents({ event: 'admin.denied', principal: 'olga', limit: 10 }).map((e) => e.reason);
    expect(denied).toContain('missing or wrong CSRF token');
    expect(denied).toContain('cross-origin request refused');
  });

  it('a read-only session reads and is refused every change (403)', async () => {
    const s = await loggedIn({ token: readerPat });
    expect((await call(s, 'GET', '/admin/sessions')).status).toBe(200);
    const res = await call(s, 'POST', '/admin/clients', { client_id: 'ro-dev', scope: 'mqtt:publish:x' }, { 'x-csrf-token': s.csrf });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: 'insufficient_scope' });
  });

  it('revoking the PAT used to log in, or disabling the user, ends the console session at once', async () => {
    const { token, id } = t.server.people.pats.create({ user: 'olga', name: 'short', scope: 'admin:write' }, 'test');
    const s = await loggedIn({ token });
    t.server.people.pats.revoke(id, 'test');
    expect((await call(s, 'GET', '/admin/clients')).status).toBe(401);
    t.server.people.users.create({ name: 'dora', scope: 'admin:write' }, 'test');
    const d = await loggedIn({ link: await loginLink('--user', 'dora') });
    t.server.people.users.setStatus('dora', 'disabled', 'test');
    expect((await call(d, 'GET', '/admin/clients')).status).toBe(401);
  });

  it('logout ends the session', async () => {
    const s = await loggedIn({ token: writerPat });
    expect((await call(s, 'POST', '/console/api/logout', {}, { 'x-csrf-token': s.csrf })).status).toBe(200);
    expect((await call(s, 'GET', '/console/api/me')).status).toBe(401);
  });

  it('idle sessions expire', () => {
    const sessions = new ConsoleSessions(1000);
    const { cookie } = sessions.create({ kind: 'operator', name: 'operator', patId: null, access: 'write' }, 0);
    expect(sessions.get(cookie, 999)).toBeDefined();
    expect(sessions.get(cookie, 2001)).toBeUndefined();
  });
});

describe('console pages', () => {
  it('are served with a strict CSP, nosniff and no framing', async () => {
    const res = await fetch(`${t.baseUrl}/console`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain(`ws://127.0.0.1:${t.server.ports.ws}`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });

  it('serves vendor modules through fixed routes only, never arbitrary node_modules paths', async () => {
    const preact = await fetch(`${t.baseUrl}/console/vendor/preact-htm.mjs`);
    expect(preact.status).toBe(200);
    expect(preact.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(`${t.baseUrl}/console/vendor/mqtt.mjs`)).status).toBe(200);
    // Raw paths, as an attacker sends them (fetch would normalise the dots away first).
    for (const path of ['/console/vendor/../../package.json', '/console/vendor/preact/package.json', '/console/vendor/%2e%2e/%2e%2e/package.json', '/console/node_modules/mqtt/package.json', '/console/vendor/preact-htm.mjs/../../../package.json']) {
      expect(await rawStatus(t.server.ports.http, path), path).toBe(404);
    }
  });

  it('the event stream refuses without a session and streams stats, sessions and audit with one', async () => {
    expect((await fetch(`${t.baseUrl}/console/api/events`)).status).toBe(401);
    const s = await loggedIn({ token: readerPat });
    const controller = new AbortController();
    const res = await fetch(`${t.baseUrl}/console/api/events`, { headers: { cookie: s.cookie }, signal: controller.signal });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    await eventually(async () => {
      text += new TextDecoder().decode((await reader.read()).value);
      return text.includes('event: stats') && text.includes('event: sessions') && text.includes('event: audit');
    }, 5000, 'stats, sessions and audit events');
    controller.abort();
  });
});

describe('admin routes the console uses', () => {
  let s: Login;
  beforeAll(async () => {
    s = await loggedIn({ token: writerPat });
  });
  const write = (method: string, path: string, body: unknown = {}) => call(s, method, path, body, { 'x-csrf-token': s.csrf });

  it('explain, with a proposed scope as a preview', async () => {
    t.createClient('ex-dev', 'mqtt:publish:devices/{client_id}/telemetry');
    const q = (extra: string) => call(s, 'GET', `/admin/explain?principal=ex-dev&action=publish&topic=devices/ex-dev/telemetry${extra}`);
    expect(await (await q('')).json()).toMatchObject({ allow: true, scope: 'mqtt:publish:devices/{client_id}/telemetry' });
    expect(await (await q(`&scope=${encodeURIComponent('mqtt:publish:other/#')}`)).json()).toMatchObject({ allow: false, scope: 'mqtt:publish:devices/ex-dev/telemetry' });
  });

  it('set scope and rotate secret', async () => {
    t.createClient('sc-dev', 'mqtt:publish:a');
    expect(await (await write('POST', '/admin/clients/sc-dev/scope', { scope: 'mqtt:publish:b' })).json()).toMatchObject({ scope: 'mqtt:publish:b' });
    const rotated = await write('POST', '/admin/clients/sc-dev/rotate-secret', { grace: 0 });
    expect(rotated.headers.get('cache-control')).toBe('no-store');
    const { client_secret } = (await rotated.json()) as { client_secret: string };
    expect((await t.token('sc-dev', client_secret)).access_token).toBeTruthy();
  });

  it('disconnect with revoke ends the session within 1 s and the token cannot reconnect', async () => {
    const secret = t.createClient('dc-dev', 'mqtt:publish:x/{client_id}');
    const { access_token } = await t.token('dc-dev', secret);
    const client = await connectDevice(t.mqttUrl, 'dc-dev', access_token);
    const closed = closedWithin(client, 1000);
    // The console's Revoke & disconnect: the admin API's session route (shared with `latchkey sessions kick --revoke`).
    const res = await call(s, 'DELETE', '/admin/sessions/dc-dev?revoke=true', {}, { 'x-csrf-token': s.csrf });
    expect(await res.json()).toMatchObject({ client_id: 'dc-dev', kicked: 1, revoked: [{ method: 'jwt' }] });
    await closed;
    await client.endAsync(true);
    expect(await refusalCode(connectDevice(t.mqttUrl, 'dc-dev', access_token))).toBe(5);
    expect((await call(s, 'DELETE', '/admin/sessions/nobody', {}, { 'x-csrf-token': s.csrf })).status).toBe(404);
    // Without the CSRF token the cookie alone ends nothing.
    expect((await call(s, 'DELETE', '/admin/sessions/dc-dev')).status).toBe(403);
  });

  it('PATs and API keys: created once, rolled, deleted', async () => {
    const pat = await write('POST', '/admin/pats', { user: 'rita', name: 'ci', scope: 'admin:read', expires_in: 3600 });
    expect(pat.status).toBe(201);
    expect(((await pat.json()) as { token: string }).token).toMatch(/^lk_pat_/);
    const key = await write('POST', '/admin/apikeys', { name: 'ingest', scope: 'mqtt:publish:ingest/#' });
    expect(((await key.json()) as { key: string }).key).toMatch(/^lk_key_/);
    const rolled = await write('POST', '/admin/apikeys/ingest/roll', { grace: 60 });
    const { key: newKey } = (await rolled.json()) as { key: string };
    expect(newKey).toMatch(/^lk_key_/);
    // Disabled: its MQTT session ends and the key is refused; enabled again: it works.
    const session = await connectDevice(t.mqttUrl, 'ingest', newKey);
    const closed = closedWithin(session, 1000);
    expect(await (await write('POST', '/admin/apikeys/ingest/disable')).json()).toMatchObject({ status: 'disabled' });
    await closed;
    await session.endAsync(true);
    expect(await refusalCode(connectDevice(t.mqttUrl, 'ingest', newKey))).toBe(5);
    expect(await (await write('POST', '/admin/apikeys/ingest/enable')).json()).toMatchObject({ status: 'enabled' });
    await (await connectDevice(t.mqttUrl, 'ingest', newKey)).endAsync(true);
    expect((await write('DELETE', '/admin/apikeys/ingest')).status).toBe(200);
  });

  it('a certificate without a CSR comes with its generated key, once', async () => {
    t.createClient('cert-dev', 'mqtt:publish:x');
    const res = await write('POST', '/admin/certificates', { client_id: 'cert-dev', days: 30 });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { key: string; cert: string };
    expect(body.key).toMatch(/BEGIN PRIVATE KEY/);
    expect(body.cert).toMatch(/BEGIN CERTIFICATE/);
  });
});

/** The status of a GET with exactly this path, not normalised by a URL parser. */
function rawStatus(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A JSON POST over HTTPS (the server checked as `localhost` against the CA); the status and Set-Cookie. */
function httpsJson(url: string, ca: string, body: unknown): Promise<{ status: number; setCookie: string }> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: 'POST', ca, servername: 'localhost', agent: false, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) } }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, setCookie: String(res.headers['set-cookie'] ?? '') });
    });
    req.on('error', reject);
    req.end(text);
  });
}
