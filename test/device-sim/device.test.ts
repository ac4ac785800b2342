import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Device, DeviceError, TokenEndpointError, type DeviceEvent } from '../../device-sim/lib/index.js';
import { startTestServer, type TestServer } from '../helpers/latchkey.js';
import { eventually, FAST_RECONNECT, jwtDevice, LAB_SCOPE, types } from './fixture.js';

/** Publishes to the device's own lab topic and waits for it to come back. */
async function roundTrip(device: Device, text: string): Promise<void> {
  const topic = `lab/${device.clientId}/echo`;
  await device.subscribe(topic);
  const received = new Promise<string>((resolve) => {
    const onMessage = (t: string, payload: Buffer): void => {
      if (t === topic && payload.toString() === text) {
        device.off('message', onMessage);
        resolve(text);
      }
    };
    device.on('message', onMessage);
  });
  await device.publish(topic, text, { qos: 1 });
  await expect(received).resolves.toBe(text);
}

describe('Device with client credentials', () => {
  let server: TestServer;
  const devices: Device[] = [];
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.close()));
  });
  afterAll(() => server?.close());

  it('fetches a token, connects with it and exchanges messages; events carry the jti, never the token or secret', async () => {
    const secret = server.createClient('lab-1', LAB_SCOPE);
    const events: DeviceEvent[] = [];
    const device = await Device.connect(jwtDevice(server, 'lab-1', secret, events));
    devices.push(device);

    expect(device.connected).toBe(true);
    expect(types(events)).toEqual(['token_fetched', 'connecting', 'connected']);
    const fetched = events[0] as Extract<DeviceEvent, { type: 'token_fetched' }>;
    const connected = events[2] as Extract<DeviceEvent, { type: 'connected' }>;
    expect(connected).toMatchObject({ mode: 'jwt', url: server.mqttUrl, jti: fetched.jti });
    expect(device.currentToken?.jti).toBe(fetched.jti);

    await roundTrip(device, 'hello');

    const logged = JSON.stringify(events);
    expect(logged).not.toContain(secret);
    expect(logged).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/); // no JWT anywhere
  });

  it('fails fast on the first attempt, with an error that says why', async () => {
    const secret = server.createClient('lab-2', LAB_SCOPE);
    const forged = `${Buffer.from('{"alg":"ES256","typ":"at+jwt"}').toString('base64url')}.${Buffer.from('{"sub":"lab-2"}').toString('base64url')}.c2ln`;
    const rows: Array<{ name: string; opts: Parameters<typeof Device.connect>[0]; code: string; returnCode?: number; oauth?: string }> = [
      { name: 'wrong secret', opts: jwtDevice(server, 'lab-2', 'wrong', []), code: 'token_error', oauth: 'invalid_client' },
      { name: 'forged token', opts: { clientId: 'lab-2', mqttUrl: server.mqttUrl, accessToken: forged }, code: 'refused', returnCode: 4 },
      { name: 'nothing listening', opts: { ...jwtDevice(server, 'lab-2', secret, []), mqttUrl: 'mqtt://127.0.0.1:1' }, code: 'network' },
    ];
    for (const row of rows) {
      const err = await Device.connect(row.opts).catch((e: unknown) => e);
      expect(err, row.name).toBeInstanceOf(DeviceError);
      const e = err as DeviceError;
      expect(e.code, row.name).toBe(row.code);
      if (row.returnCode !== undefined) expect(e.returnCode, row.name).toBe(row.returnCode);
      if (row.oauth !== undefined) expect((e.cause as TokenEndpointError).code, row.name).toBe(row.oauth);
    }
  });

  it('rejects options that cannot work before touching the network', () => {
    const rows: Array<{ name: string; opts: Parameters<typeof Device.connect>[0] }> = [
      { name: 'no credentials', opts: { clientId: 'x', mqttUrl: 'mqtt://127.0.0.1:1883' } },
      { name: 'bad client id', opts: { clientId: 'a/b', mqttUrl: 'mqtt://127.0.0.1:1883', accessToken: 't' } },
      { name: 'certificate over plain mqtt', opts: { clientId: 'x', mqttUrl: 'mqtt://127.0.0.1:1883', cert: 'c', key: 'k' } },
      { name: 'http url', opts: { clientId: 'x', mqttUrl: 'http://127.0.0.1:1883', accessToken: 't' } },
    ];
    for (const row of rows) {
      expect(() => Device.start(row.opts), row.name).toThrow(DeviceError);
    }
  });

  it('reports a refused subscription and keeps the session', async () => {
    const secret = server.createClient('lab-3', LAB_SCOPE);
    const events: DeviceEvent[] = [];
    const device = await Device.connect(jwtDevice(server, 'lab-3', secret, events));
    devices.push(device);

    const err = await device.subscribe('#').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceError);
    expect((err as DeviceError).code).toBe('subscribe_denied');
    expect(events).toContainEqual({ type: 'denied', action: 'subscribe', topic: '#' });
    expect(device.connected).toBe(true);
    await roundTrip(device, 'still here');
  });

  it('after a token revocation: CONNACK 5, waits the longest delay, then comes back with a fresh token', async () => {
    const secret = server.createClient('lab-4', LAB_SCOPE);
    const events: DeviceEvent[] = [];
    const device = await Device.connect(jwtDevice(server, 'lab-4', secret, events));
    devices.push(device);
    const firstJti = device.currentToken!.jti!;

    // Listen first: the server may end the session before the CLI process has exited.
    const disconnected = device.waitFor('disconnected', () => true, 5_000);
    const revoked = await server.cli('token', 'revoke', firstJti, '--json');
    expect(revoked.code, revoked.stderr).toBe(0);
    await disconnected;
    await device.waitFor('connected', () => true, 10_000);

    // The old token is not near expiry, so the device first presents it again and is refused,
    // then waits the longest delay and fetches a fresh token.
    const after = events.slice(events.findIndex((e) => e.type === 'disconnected'));
    const refusedAt = after.findIndex((e) => e.type === 'refused');
    expect(after[refusedAt]).toEqual({ type: 'refused', returnCode: 5, reason: 'not authorized' });
    expect(after[refusedAt + 1]).toMatchObject({ type: 'reconnecting', delayMs: FAST_RECONNECT.maxMs, freshToken: true });
    expect(types(after.slice(refusedAt + 2))).toEqual(['token_fetched', 'connecting', 'connected']);

    expect(device.currentToken!.jti).not.toBe(firstJti);
    await roundTrip(device, 'back');
  });

  it('a disabled client is refused at the token endpoint and never retries faster than the max', async () => {
    const secret = server.createClient('lab-5', LAB_SCOPE);
    const events: DeviceEvent[] = [];
    const device = await Device.connect(jwtDevice(server, 'lab-5', secret, events));
    devices.push(device);

    const disconnected = device.waitFor('disconnected', () => true, 5_000);
    const disabled = await server.cli('client', 'disable', 'lab-5', '--json');
    expect(disabled.code, disabled.stderr).toBe(0);
    await disconnected;
    await eventually(() => events.filter((e) => e.type === 'reconnecting').length >= 3, 'three reconnect attempts', 10_000);

    const afterDisconnect = events.slice(events.findIndex((e) => e.type === 'disconnected'));
    // Every attempt is refused; after each refusal the wait is the longest one.
    const errors = afterDisconnect.filter((e) => e.type === 'token_error' || e.type === 'refused');
    expect(errors.length).toBeGreaterThanOrEqual(2);
    for (let i = 0; i < afterDisconnect.length - 1; i++) {
      const e = afterDisconnect[i]!;
      if (e.type === 'token_error' || e.type === 'refused') {
        expect(afterDisconnect[i + 1]).toMatchObject({ type: 'reconnecting', delayMs: FAST_RECONNECT.maxMs });
      }
    }
    expect(afterDisconnect.some((e) => e.type === 'connected')).toBe(false);
    const tokenError = afterDisconnect.find((e) => e.type === 'token_error');
    if (tokenError) expect(tokenError).toMatchObject({ error: 'invalid_client', status: 401 });
  });
});

describe('Device renewal over MQTT', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ expiryWarning: '2s' });
  });
  afterAll(() => server?.close());

  it('keeps the same session well past the first token expiry', async () => {
    const secret = server.createClient('renew-1', LAB_SCOPE, { tokenTtl: 4 });
    const events: DeviceEvent[] = [];
    const device = await Device.connect(jwtDevice(server, 'renew-1', secret, events));
    try {
      const first = device.currentToken!;
      expect(first.expiresAt - Date.now()).toBeLessThanOrEqual(4_000);

      // Two lifetimes and a half: without renewal the broker would have ended the session twice.
      await new Promise((r) => setTimeout(r, 10_000));
      expect(Date.now()).toBeGreaterThan(first.expiresAt + 5_000);

      const renewed = events.filter((e): e is Extract<DeviceEvent, { type: 'renewed' }> => e.type === 'renewed');
      expect(renewed.length).toBeGreaterThanOrEqual(2);
      expect(renewed.every((e) => e.via === 'mqtt')).toBe(true);
      expect(new Set(renewed.map((e) => e.jti)).size).toBe(renewed.length);
      expect(events.filter((e) => e.type === 'expiring').length).toBeGreaterThanOrEqual(2);
      expect(types(events).filter((t) => t === 'connected')).toHaveLength(1);
      expect(types(events)).not.toContain('disconnected');
      expect(types(events)).not.toContain('renew_failed');
      expect(device.currentToken!.jti).toBe(renewed.at(-1)!.jti);
      expect(device.currentToken!.expiresAt).toBeGreaterThan(Date.now());
      await roundTrip(device, 'renewed');
    } finally {
      await device.close();
    }
  }, 20_000);

  it('falls back to a token from the endpoint handed over on reauth when token/request is refused', async () => {
    const secret = server.createClient('renew-2', LAB_SCOPE, { tokenTtl: 4 });
    const events: DeviceEvent[] = [];
    const device = await Device.connect(jwtDevice(server, 'renew-2', secret, events));
    try {
      // Jump the queue: our own token/request lands just before the device's, so the broker's
      // one-renewal-per-second limit answers the device's request with slow_down.
      device.once('event', function steal(e) {
        if (e.type !== 'expiring') return void device.once('event', steal);
        void device.publish('$auth/renew-2/token/request', JSON.stringify({ request_id: 'jump-the-queue' }));
      });
      const renewed = await device.waitFor('renewed', () => true, 8_000);
      expect(events).toContainEqual(expect.objectContaining({ type: 'renew_failed', via: 'mqtt', error: 'slow_down' }));
      expect(renewed.via).toBe('reauth');
      expect(types(events).filter((t) => t === 'token_fetched')).toHaveLength(2);
      expect(device.currentToken!.jti).toBe(renewed.jti);
      expect(types(events)).not.toContain('disconnected');
      await roundTrip(device, 'reauthed');
    } finally {
      await device.close();
    }
  }, 20_000);
});
