/**
 * Live sessions seen and ended from another process: the server publishes
 * them into the store, the CLI reads them and writes a kick on the change
 * feed. Also `token list` and the admin routes that share the code path.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawnTimeout, startTestServer, type TestServer } from '../helpers/latchkey.js';
import { closedWithin, connectDevice, eventually, refusalCode, subscribeCodes } from '../helpers/mqtt.js';
import { listLiveTokens } from '../../src/registry/tokens.js';
import { Store } from '../../src/store/store.js';

const SCOPE = 'mqtt:publish:home/{client_id}/telemetry mqtt:subscribe:home/{client_id}/setpoint';

let lk: TestServer;
let reader: string;
let writer: string;

beforeAll(async () => {
  lk = await startTestServer();
  const { users, pats, apiKeys } = lk.server.people;
  users.create({ name: 'opal', scope: 'admin:write' }, 'test');
  reader = pats.create({ user: 'opal', name: 'read', scope: 'admin:read' }, 'test').token;
  writer = apiKeys.create({ name: 'fleet-bot', scope: 'admin:write' }, 'test').key;
});
afterAll(() => lk.close());

async function cliJson(...args: string[]): Promise<Record<string, unknown>> {
  const result = await lk.cli(...args, '--json');
  expect(result.stderr, `stderr of ${args.join(' ')}`).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

async function device(id: string) {
  const secret = lk.createClient(id, SCOPE, { tokenTtl: 600 });
  const { access_token } = await lk.token(id, secret);
  const client = await connectDevice(lk.mqttUrl, id, access_token);
  return { client, token: access_token, secret };
}

async function admin(method: string, path: string, token: string) {
  const res = await fetch(`${lk.baseUrl}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Another connection to the store, as a CLI process would have. */
function otherProcessStore(): Store {
  return Store.open(join(lk.dataDir, 'latchkey.db'));
}

describe('latchkey sessions', { timeout: spawnTimeout(4) }, () => {
  test('lists live sessions from another process: who, address, credential kind, expiry, subscriptions', async () => {
    const { client } = await device('therm-1');
    expect(await subscribeCodes(client, ['home/therm-1/setpoint'])).toEqual([1]);
    await eventually(async () => ((await cliJson('sessions')).sessions as unknown[]).length > 0, 5000, 'session listed');
    let listed: Record<string, unknown> | undefined;
    await eventually(async () => {
      const all = (await cliJson('sessions', '--client', 'therm-1')).sessions as Record<string, unknown>[];
      listed = all[0];
      return all.length === 1 && (listed!.subscriptions as string[]).length === 1;
    }, 5000, 'subscription published');
    expect(listed).toMatchObject({
      client_id: 'therm-1',
      principal: 'therm-1',
      kind: 'client',
      method: 'jwt',
      remote: expect.stringMatching(/127\.0\.0\.1/),
      subscriptions: ['home/therm-1/setpoint'],
      instance: lk.server.broker.published.instance,
    });
    const expires = Date.parse(listed!.credential_expires_at as string);
    expect(expires - Date.now()).toBeGreaterThan(500_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(600_000);
    const text = await lk.cli('sessions');
    expect(text.stdout).toMatch(/therm-1\s+therm-1\s+jwt\s+\S*127\.0\.0\.1/);
    await client.endAsync();
    await eventually(async () => ((await cliJson('sessions', '--client', 'therm-1')).sessions as unknown[]).length === 0, 5000, 'row removed on disconnect');
  });

  test('a kick written by another process ends the session within 1 s', async () => {
    const { client } = await device('therm-2');
    await eventually(() => lk.server.sessions.list('therm-2').length === 1, 3000, 'published');
    const other = otherProcessStore();
    try {
      other.durably(() => other.changes.append('session_kick', 'therm-2'));
      expect(await closedWithin(client, 1000)).toBeLessThanOrEqual(1000);
    } finally {
      other.close();
    }
    const event = lk.auditEvents({ principal: 'therm-2', event: 'mqtt.disconnected_by_broker', limit: 1 })[0];
    expect(event?.reason).toBe('ended by an operator');
  });

  test('sessions kick confirms the end; the device may reconnect (its token is not revoked)', async () => {
    const { client, token } = await device('therm-3');
    await eventually(() => lk.server.sessions.list('therm-3').length === 1, 3000, 'published');
    const closed = closedWithin(client, 5000);
    const kicked = await cliJson('sessions', 'kick', 'therm-3');
    expect(kicked).toEqual({ client_id: 'therm-3', kicked: 1, revoked: [], ended: true });
    await closed;
    const again = await connectDevice(lk.mqttUrl, 'therm-3', token);
    await again.endAsync();
    lk.server.audit.flush();
    expect(lk.auditEvents({ event: 'session.kicked', principal: 'therm-3', limit: 1 })[0]?.detail).toMatchObject({ actor: 'cli', revoke: false });
  });

  test('sessions kick --revoke revokes the token it used: the device cannot come back with it (5)', async () => {
    const { client, token } = await device('therm-4');
    await eventually(() => lk.server.sessions.list('therm-4').length === 1, 3000, 'published');
    const jti = lk.server.sessions.list('therm-4')[0]!.credential_id;
    const kicked = await cliJson('sessions', 'kick', 'therm-4', '--revoke');
    expect(kicked).toMatchObject({ kicked: 1, revoked: [{ method: 'jwt', credential_id: jti, already_revoked: false }], ended: true });
    expect(client.connected).toBe(false);
    expect(await refusalCode(connectDevice(lk.mqttUrl, 'therm-4', token))).toBe(5);
  });

  test('sessions kick --revoke refuses a session that used an API key (exit 4): nothing kicked, the key still works', async () => {
    // An API key may serve other integrations: revoking it is `apikey roll`/`delete`, never a side effect of a kick.
    const { key } = lk.server.people.apiKeys.create({ name: 'bridge-bot', scope: 'mqtt:subscribe:home/#' }, 'test');
    const client = await connectDevice(lk.mqttUrl, 'bridge-bot', key, { clientId: 'bridge-bot@a' });
    await eventually(() => lk.server.sessions.list('bridge-bot').length === 1, 3000, 'published');
    const result = await lk.cli('sessions', 'kick', 'bridge-bot@a', '--revoke');
    expect(result.code).toBe(4);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^error: .*apikey.*cannot be revoked/);
    expect(client.connected).toBe(true);
    const another = await connectDevice(lk.mqttUrl, 'bridge-bot', key, { clientId: 'bridge-bot@b' });
    await another.endAsync();
    await client.endAsync();
  });

  test('kicking a session that does not exist exits 3 with one error line', async () => {
    const result = await lk.cli('sessions', 'kick', 'nobody-here');
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('error: no live session "nobody-here"\n');
  });

  test('client disable and delete report how many live sessions they ended (--wait confirms)', async () => {
    const a = await device('therm-5');
    const b = await device('therm-6');
    const c = await device('therm-12');
    await eventually(() => ['therm-5', 'therm-6', 'therm-12'].every((id) => lk.server.sessions.count(id) === 1), 3000, 'published');
    const disabled = await cliJson('client', 'disable', 'therm-5', '--wait');
    expect(disabled).toMatchObject({ client_id: 'therm-5', status: 'disabled', live_sessions: 1, sessions_ended: 1 });
    expect(a.client.connected).toBe(false);
    const deleted = await cliJson('client', 'delete', 'therm-6', '--wait');
    expect(deleted).toEqual({ client_id: 'therm-6', deleted: true, live_sessions: 1, sessions_ended: 1 });
    expect(b.client.connected).toBe(false);
    // Without --wait: the count at the time of the change, and no waiting.
    const closed = closedWithin(c.client, 5000);
    const quick = await cliJson('client', 'disable', 'therm-12');
    expect(quick).toMatchObject({ client_id: 'therm-12', status: 'disabled', live_sessions: 1 });
    expect(quick.sessions_ended).toBeUndefined();
    await closed;
  });

  test('a takeover by the same client id leaves one row', async () => {
    const first = await device('therm-7');
    const { access_token } = await lk.token('therm-7', first.secret);
    const second = await connectDevice(lk.mqttUrl, 'therm-7', access_token);
    await eventually(() => !first.client.connected, 3000, 'taken over');
    await eventually(() => lk.server.sessions.list('therm-7').length === 1, 3000, 'one row');
    expect(lk.server.sessions.list('therm-7')[0]!.credential_id).not.toBe(first.token);
    await second.endAsync();
    await eventually(() => lk.server.sessions.list('therm-7').length === 0, 3000, 'row removed');
  });

  test('rows of a process that died without a goodbye are ignored at once and deleted by the next heartbeat', async () => {
    const db = new Database(join(lk.dataDir, 'latchkey.db'));
    const longAgo = Date.now() - 60_000;
    db.prepare('INSERT INTO live_instances (instance, host, pid, started_at, seen_at) VALUES (?, ?, ?, ?, ?)').run('dead-node', 'gone', 1, longAgo, longAgo);
    db.prepare(
      "INSERT INTO live_sessions (instance, client_id, principal, kind, method, credential_id, remote, connected_at, expires_at, subscriptions) VALUES ('dead-node', 'ghost', 'ghost', 'client', 'jwt', 'j', NULL, ?, NULL, '[]')",
    ).run(longAgo);
    try {
      expect(((await cliJson('sessions', '--client', 'ghost')).sessions as unknown[]).length).toBe(0);
      expect((await lk.cli('sessions', 'kick', 'ghost')).code).toBe(3);
      await eventually(() => db.prepare("SELECT COUNT(*) FROM live_sessions WHERE instance = 'dead-node'").pluck().get() === 0, 8000, 'stale rows deleted');
      expect(db.prepare("SELECT COUNT(*) FROM live_instances WHERE instance = 'dead-node'").pluck().get()).toBe(0);
    } finally {
      db.close();
    }
  });
});

describe('a live server taken for dead publishes its sessions again', { timeout: spawnTimeout(4) }, () => {
  test('after another process deleted its rows, the next heartbeat brings them back', async () => {
    const { client } = await device('therm-10');
    await eventually(() => lk.server.sessions.list('therm-10').length === 1, 3000, 'published');
    const db = new Database(join(lk.dataDir, 'latchkey.db'));
    try {
      const instance = lk.server.broker.published.instance;
      // What a peer does to an instance it has not heard from for 15 s.
      db.prepare('DELETE FROM live_sessions WHERE instance = ?').run(instance);
      db.prepare('DELETE FROM live_instances WHERE instance = ?').run(instance);
      expect(lk.server.sessions.list('therm-10')).toHaveLength(0);
      await eventually(() => lk.server.sessions.list('therm-10').length === 1, 8000, 'republished');
    } finally {
      db.close();
      await client.endAsync();
    }
  });
});

describe('a server that stops cleanly removes its rows', { timeout: spawnTimeout(4) }, () => {
  test('after close, neither its instance nor its sessions remain', async () => {
    const own = await startTestServer();
    const dataDir = own.dataDir;
    const secret = own.createClient('solo', SCOPE);
    const { access_token } = await own.token('solo', secret);
    const client = await connectDevice(own.mqttUrl, 'solo', access_token);
    await eventually(() => own.server.sessions.list().length === 1, 3000, 'published');
    const instance = own.server.broker.published.instance;
    const db = new Database(join(dataDir, 'latchkey.db'), { readonly: true });
    try {
      await own.server.close();
      expect(db.prepare('SELECT COUNT(*) FROM live_sessions WHERE instance = ?').pluck().get(instance)).toBe(0);
      expect(db.prepare('SELECT COUNT(*) FROM live_instances WHERE instance = ?').pluck().get(instance)).toBe(0);
    } finally {
      db.close();
      client.end(true);
      await own.close();
    }
  });
});

describe('token list', { timeout: spawnTimeout(4) }, () => {
  test('shows the jtis of live tokens (never the tokens), per client; revoked ones drop out', async () => {
    const s1 = lk.createClient('lister-1', SCOPE);
    const s2 = lk.createClient('lister-2', SCOPE);
    const t1 = await lk.token('lister-1', s1);
    const t2 = await lk.token('lister-1', s1);
    await lk.token('lister-2', s2);
    lk.server.issuedTokens.flush();
    const result = await lk.cli('token', 'list', '--client', 'lister-1', '--json');
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain(t1.access_token);
    expect(result.stdout).not.toContain(t1.access_token.split('.')[2]);
    const tokens = (JSON.parse(result.stdout) as { tokens: Record<string, unknown>[] }).tokens;
    const jtiOf = (t: string) => (JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti;
    expect(tokens.map((t) => t.jti).sort()).toEqual([jtiOf(t1.access_token), jtiOf(t2.access_token)].sort());
    expect(tokens[0]).toMatchObject({ client_id: 'lister-1', issued_via: 'http', certificate_bound: false, scope: expect.any(String) });
    expect(Object.keys(tokens[0]!).sort()).toEqual(['certificate_bound', 'client_id', 'expires_at', 'issued_at', 'issued_via', 'jti', 'scope']);
    await cliJson('token', 'revoke', jtiOf(t1.access_token));
    const after = (await cliJson('token', 'list', '--client', 'lister-1')).tokens as { jti: string }[];
    expect(after.map((t) => t.jti)).toEqual([jtiOf(t2.access_token)]);
    const all = (await cliJson('token', 'list')).tokens as { client_id: string }[];
    expect(all.some((t) => t.client_id === 'lister-2')).toBe(true);
  });

  test('expired tokens are not listed and are pruned', async () => {
    const secret = lk.createClient('brief-1', SCOPE, { tokenTtl: 2 });
    await lk.token('brief-1', secret);
    lk.server.issuedTokens.flush();
    // In-process, at once: the token has at least a second left.
    expect(listLiveTokens(lk.server.store, { clientId: 'brief-1' })).toHaveLength(1);
    await eventually(async () => ((await cliJson('token', 'list', '--client', 'brief-1')).tokens as unknown[]).length === 0, 6000, 'expired');
    lk.server.issuedTokens.prune(Math.floor(Date.now() / 1000));
    expect(lk.server.store.db.prepare("SELECT COUNT(*) FROM issued_tokens WHERE client_id = 'brief-1'").pluck().get()).toBe(0);
  });
});

describe('admin API: sessions and tokens share the CLI code path', { timeout: spawnTimeout(4) }, () => {
  test('GET /admin/sessions lists at once, DELETE /admin/sessions/:id?revoke=true ends and revokes; admin:read may not kick', async () => {
    const { client, token } = await device('therm-9');
    const listed = await admin('GET', '/admin/sessions?client_id=therm-9', reader);
    expect(listed.status).toBe(200);
    expect(listed.body.sessions).toMatchObject([{ client_id: 'therm-9', method: 'jwt' }]);
    expect((await admin('DELETE', '/admin/sessions/therm-9', reader)).status).toBe(403);
    const kicked = await admin('DELETE', '/admin/sessions/therm-9?revoke=true', writer);
    // Done by the time the answer arrives: the second counts from there (0 if the session ended first).
    const answeredAt = Date.now();
    expect(kicked.status).toBe(200);
    expect(kicked.body).toMatchObject({ client_id: 'therm-9', kicked: 1, revoked: [{ method: 'jwt', already_revoked: false }] });
    expect(await closedWithin(client, 1000, answeredAt)).toBeLessThanOrEqual(1000);
    expect(await refusalCode(connectDevice(lk.mqttUrl, 'therm-9', token))).toBe(5);
    expect((await admin('DELETE', '/admin/sessions/therm-9', writer)).status).toBe(404);
  });

  test('disable and delete over the admin API say how many live sessions they ended', async () => {
    const { client } = await device('therm-11');
    const res = await fetch(`${lk.baseUrl}/admin/clients/therm-11/disable`, { method: 'POST', headers: { authorization: `Bearer ${writer}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ client_id: 'therm-11', status: 'disabled', live_sessions: 1 });
    await closedWithin(client, 1000);
    const deleted = await admin('DELETE', '/admin/clients/therm-11', writer);
    expect(deleted.body).toEqual({ client_id: 'therm-11', deleted: true, live_sessions: 0 });
  });

  test('GET /admin/tokens lists live jtis', async () => {
    const secret = lk.createClient('lister-3', SCOPE);
    await lk.token('lister-3', secret);
    const res = await admin('GET', '/admin/tokens?client_id=lister-3', reader);
    expect(res.status).toBe(200);
    expect(res.body.tokens).toMatchObject([{ client_id: 'lister-3', issued_via: 'http' }]);
  });
});
