/**
 * Static MQTT passwords for stock devices (docs/STOCK-DEVICES.md): created,
 * rotated and revoked through the CLI against a running server, used by
 * mqtt.js and mosquitto_pub.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawnTimeout, startTestServer, type TestServer } from '../helpers/latchkey.js';
import { closedWithin, collect, connect, eventually, refusalCode, sleep, subscribeCodes } from '../helpers/mqtt.js';
import { dumpDatabase } from '../cli/fixture.js';
import { haveTools } from '../helpers/tools.js';
import { join } from 'node:path';

const PLUG_SCOPE = 'mqtt:publish:stat/{client_id}/# mqtt:publish:tele/{client_id}/# mqtt:subscribe:cmnd/{client_id}/#';
const HAVE_MOSQUITTO = haveTools('mosquitto_pub');

let lk: TestServer;

beforeAll(async () => {
  lk = await startTestServer();
});
afterAll(() => lk.close());

async function cliJson(...args: string[]): Promise<Record<string, unknown>> {
  const result = await lk.cli(...args, '--json');
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

/** Creates a stock device through the CLI; returns its static password. */
async function plug(id: string): Promise<string> {
  const created = await cliJson('client', 'create', id, '--scope', PLUG_SCOPE, '--static-password');
  return created.mqtt_password as string;
}

function connectPlug(id: string, password: string, clientId = id, username = id) {
  return connect(lk.mqttUrl, { clientId, username, password });
}

function lastConnect(principal: string) {
  lk.server.audit.flush();
  return lk.auditEvents({ principal, event: 'mqtt.connect', limit: 1 })[0];
}

describe('static MQTT passwords', { timeout: spawnTimeout(4) }, () => {
  test('create --static-password shows the password once, stores only its hash, and no client secret', async () => {
    const created = await cliJson('client', 'create', 'plug-1', '--scope', PLUG_SCOPE, '--static-password');
    expect(created.client_id).toBe('plug-1');
    expect(created.client_secret).toBeNull();
    const password = created.mqtt_password as string;
    expect(password).toMatch(/^lk_mqp_[0-9A-Za-z]{38}$/);
    expect(dumpDatabase(join(lk.dataDir, 'latchkey.db'))).not.toContain(password);
    const shown = await lk.cli('client', 'show', 'plug-1');
    expect(shown.stdout).toMatch(/static password\s+set \(never shown\)/);
    expect(shown.stdout).not.toContain(password.slice(7));
    expect(await cliJson('client', 'show', 'plug-1')).toMatchObject({ static_password: true, secrets: [] });
    // Nothing to present at the token endpoint: no secret was made.
    const res = await fetch(`${lk.baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`plug-1:${password}`).toString('base64')}` },
      body: 'grant_type=client_credentials',
    });
    expect(res.status).toBe(401);
  });

  test('a device connects with username = client id = MQTT client id and the password, within its scopes; audited as static_password', async () => {
    const password = await plug('plug-2');
    const device = await connectPlug('plug-2', password);
    expect(await subscribeCodes(device, ['cmnd/plug-2/POWER', 'cmnd/plug-1/POWER'])).toEqual([1, 128]);
    expect(lk.server.broker.sessions().find((s) => s.client_id === 'plug-2')).toMatchObject({ method: 'static_password', credential_expires_at: null });
    const event = lastConnect('plug-2');
    expect(event).toMatchObject({ outcome: 'success', reason: 'authenticated by static_password' });
    expect(event!.detail).toMatchObject({ credential_kind: 'static_password' });
    expect(JSON.stringify(event)).not.toContain(password.slice(7));
    await device.endAsync();
  });

  test('refusals: another client id (2), another username (4), a retyped or foreign password (4)', async () => {
    const password = await plug('plug-3');
    const other = await plug('plug-4');
    expect(await refusalCode(connectPlug('plug-3', password, 'plug-4', 'plug-3'))).toBe(2);
    expect(await refusalCode(connectPlug('plug-3', password, 'plug-3', 'plug-4'))).toBe(4);
    expect(await refusalCode(connectPlug('plug-3', other))).toBe(4);
    const retyped = password.slice(0, 10) + (password[10] === 'a' ? 'b' : 'a') + password.slice(11);
    expect(await refusalCode(connectPlug('plug-3', retyped))).toBe(4);
    expect(lastConnect('plug-3')).toMatchObject({ outcome: 'failure', reason: 'malformed static password: checksum' });
  });

  test('rotate-password with a grace: both work during it, the old one stops after it and its live session ends', async () => {
    const old = await plug('plug-5');
    const onOld = await connectPlug('plug-5', old);
    // The grace must outlast the CLI's exit and two connects on a loaded machine.
    const rotated = await cliJson('client', 'rotate-password', 'plug-5', '--grace', '10s');
    const fresh = rotated.mqtt_password as string;
    expect(fresh).not.toBe(old);
    expect(typeof rotated.previous_expires_at).toBe('string');
    const graceEnds = Date.parse(rotated.previous_expires_at as string);
    const probe = await connectPlug('plug-5', fresh, 'plug-5');
    // The takeover by the same client id ended onOld; connect on the old one again while in grace.
    await probe.endAsync();
    const again = await connectPlug('plug-5', old);
    const closed = closedWithin(again, graceEnds - Date.now() + 2500);
    await closed;
    expect(Date.now()).toBeGreaterThanOrEqual(graceEnds - 50);
    expect(await refusalCode(connectPlug('plug-5', old))).toBe(4);
    const now = await connectPlug('plug-5', fresh);
    await now.endAsync();
    if (onOld.connected) await onOld.endAsync(true);
  });

  test('revoke-password ends the live session within a second and refuses the password as revoked (5)', async () => {
    const password = await plug('plug-6');
    const device = await connectPlug('plug-6', password);
    await eventually(() => lk.server.sessions.list('plug-6').length === 1, 3000, 'session published');
    const closed = closedWithin(device, 5000);
    const result = await cliJson('client', 'revoke-password', 'plug-6', '--wait');
    expect(result).toMatchObject({ client_id: 'plug-6', revoked: 1, live_sessions: 1, sessions_ended: 1 });
    await closed;
    expect(await refusalCode(connectPlug('plug-6', password))).toBe(5);
    expect(await cliJson('client', 'show', 'plug-6')).toMatchObject({ static_password: false });
    const event = lk.auditEvents({ principal: 'plug-6', event: 'mqtt.disconnected_by_broker', limit: 1 })[0];
    expect(event?.reason).toBe('static_password revoked');
  });

  test('the ending is prompt: a revocation made in-process ends the session within 1 s', async () => {
    const password = await plug('plug-7');
    const device = await connectPlug('plug-7', password);
    lk.server.passwords.revoke('plug-7', 'test');
    expect(await closedWithin(device, 1000)).toBeLessThanOrEqual(1000);
  });

  test('a static-password session cannot mint tokens over $auth', async () => {
    const password = await plug('plug-8');
    const device = await connectPlug('plug-8', password);
    const seen = collect(device);
    await subscribeCodes(device, ['$auth/plug-8/#']);
    device.publish('$auth/plug-8/token/request', JSON.stringify({ request_id: 'r1' }));
    await eventually(() => seen.some((m) => m.topic === '$auth/plug-8/token/response'), 3000, 'token response');
    const response = JSON.parse(seen.find((m) => m.topic === '$auth/plug-8/token/response')!.payload) as Record<string, unknown>;
    expect(response).toMatchObject({ request_id: 'r1', error: 'unauthorized_client' });
    expect(response.access_token).toBeUndefined();
    await device.endAsync();
  });

  test('over the admin API: set (answered once), rotate, revoke; admin:read may not', async () => {
    const { apiKeys } = lk.server.people;
    const writer = apiKeys.create({ name: 'pw-admin', scope: 'admin:write' }, 'test').key;
    const reader = apiKeys.create({ name: 'pw-reader', scope: 'admin:read' }, 'test').key;
    lk.createClient('plug-9', PLUG_SCOPE);
    const call = (method: string, token: string, body?: unknown) =>
      fetch(`${lk.baseUrl}/admin/clients/plug-9/static-password`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    expect((await call('POST', reader, {})).status).toBe(403);
    const first = await call('POST', writer, {});
    expect(first.status).toBe(201);
    expect(first.headers.get('cache-control')).toBe('no-store');
    const { mqtt_password, previous_expires_at } = (await first.json()) as { mqtt_password: string; previous_expires_at: string | null };
    expect(previous_expires_at).toBeNull();
    const device = await connectPlug('plug-9', mqtt_password);
    const rotated = (await (await call('POST', writer, { grace_seconds: 0 })).json()) as { mqtt_password: string; previous_expires_at: string };
    expect(typeof rotated.previous_expires_at).toBe('string');
    await closedWithin(device, 2000);
    expect(await refusalCode(connectPlug('plug-9', mqtt_password))).toBe(4);
    const revoked = await call('DELETE', writer);
    expect(await revoked.json()).toEqual({ client_id: 'plug-9', revoked: 1 });
    expect(await refusalCode(connectPlug('plug-9', rotated.mqtt_password))).toBe(5);
  });

  test.skipIf(!HAVE_MOSQUITTO)('mosquitto_pub publishes with the static password as Tasmota would (client id = username) (skipped without mosquitto-clients)', async () => {
    const password = await plug('tasmota-1');
    const watcherSecret = lk.createClient('watcher', 'mqtt:subscribe:tele/+/#');
    const { access_token } = await lk.token('watcher', watcherSecret);
    const watcher = await connect(lk.mqttUrl, { clientId: 'watcher', username: 'watcher', password: access_token });
    const seen = collect(watcher);
    await subscribeCodes(watcher, ['tele/+/#']);
    const port = String(lk.server.ports.mqtt);
    const pub = (user: string, pass: string) =>
      new Promise<number>((resolve) => {
        execFile('mosquitto_pub', ['-h', '127.0.0.1', '-p', port, '-V', 'mqttv311', '-i', 'tasmota-1', '-u', user, '-P', pass, '-t', 'tele/tasmota-1/STATE', '-m', '{"POWER":"ON"}', '-q', '1'], { timeout: 10_000 }, (err) =>
          resolve(err ? ((err as { code?: number }).code ?? -1) : 0),
        );
      });
    expect(await pub('tasmota-1', password)).toBe(0);
    await eventually(() => seen.some((m) => m.topic === 'tele/tasmota-1/STATE' && m.payload === '{"POWER":"ON"}'), 3000, 'message from mosquitto_pub');
    // A different last character (one ending in x would otherwise be the password itself).
    expect(await pub('tasmota-1', `${password.slice(0, -1)}${password.endsWith('x') ? 'y' : 'x'}`)).not.toBe(0);
    await watcher.endAsync();
    await sleep(10);
  });
});
