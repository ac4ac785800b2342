import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/latchkey.js';
import { closedWithin, collect, connectDevice, eventually, sleep, subscribeCodes } from '../helpers/mqtt.js';

const THERMOSTAT = 'mqtt:publish:home/{client_id}/telemetry mqtt:subscribe:home/{client_id}/setpoint';
const HUB = 'mqtt:subscribe:home/+/telemetry mqtt:publish:home/+/setpoint';

let lk: TestServer;
const secrets: Record<string, string> = {};

async function device(id: string, options = {}): Promise<MqttClient> {
  const { access_token } = await lk.token(id, secrets[id]!);
  return connectDevice(lk.mqttUrl, id, access_token, options);
}

beforeAll(async () => {
  lk = await startTestServer();
  for (const id of ['t1', 't2']) secrets[id] = lk.createClient(id, THERMOSTAT);
  secrets.hub = lk.createClient('hub', HUB);
  secrets.wide = lk.createClient('wide', 'mqtt:subscribe:home/# mqtt:publish:home/#');
});
afterAll(() => lk.close());

describe('the hub and its thermostats (docs/INTERFACE.md#scopes)', () => {
  test('allow/thermostat-telemetry-reaches-hub and allow/hub-setpoint-reaches-thermostat', async () => {
    const hub = await device('hub');
    const t1 = await device('t1');
    const t2 = await device('t2');
    const atHub = collect(hub);
    const atT1 = collect(t1);
    const atT2 = collect(t2);
    expect(await subscribeCodes(hub, ['home/+/telemetry'])).toEqual([1]);
    expect(await subscribeCodes(t1, ['home/t1/setpoint'])).toEqual([1]);
    expect(await subscribeCodes(t2, ['home/t2/setpoint'])).toEqual([1]);
    await t1.publishAsync('home/t1/telemetry', '20.5', { qos: 1 });
    await hub.publishAsync('home/t1/setpoint', '19', { qos: 1 });
    await eventually(() => atHub.length === 1 && atT1.length === 1);
    expect(atHub[0]).toMatchObject({ topic: 'home/t1/telemetry', payload: '20.5' });
    expect(atT1[0]).toMatchObject({ topic: 'home/t1/setpoint', payload: '19' });
    await sleep(100);
    expect(atT2).toEqual([]);
    await Promise.all([hub, t1, t2].map((c) => c.endAsync()));
  });

  test('deny/other-thermostat-setpoint: the publish is dropped and the connection closed', async () => {
    const t2 = await device('t2');
    const atT2 = collect(t2);
    await subscribeCodes(t2, ['home/t2/setpoint']);
    const t1 = await device('t1');
    t1.publish('home/t2/setpoint', '30', { qos: 0 });
    await closedWithin(t1, 2000);
    await sleep(150);
    expect(atT2).toEqual([]);
    const denied = lk.auditEvents({ principal: 't1', event: 'mqtt.publish_denied', limit: 5 });
    expect(denied[0]?.reason).toBe('no mqtt:publish scope matches home/t2/setpoint');
    await t2.endAsync();
  });

  test('deny/thermostat-reads-others-telemetry and wildcard escalation get SUBACK 0x80, the session lives on', async () => {
    const t1 = await device('t1');
    const codes = await subscribeCodes(t1, ['home/t2/setpoint', '#', '+/#', 'home/#', 'home/+/setpoint', '$share/g/#', '$share/g/home/t2/setpoint', 'home/t1/setpoint']);
    expect(codes).toEqual([128, 128, 128, 128, 128, 128, 128, 1]);
    expect(t1.connected).toBe(true);
    await t1.endAsync();
  });

  test('allow/shared-subscription-judged-on-its-filter', async () => {
    const hub = await device('hub');
    expect(await subscribeCodes(hub, ['$share/g/home/+/telemetry', '$share/g/home/#'])).toEqual([1, 128]);
    await hub.endAsync();
  });

  test('deny/$SYS: nobody publishes there, and # does not reach it', async () => {
    const wide = await device('wide');
    expect(await subscribeCodes(wide, ['#', '$SYS/#'])).toEqual([128, 128]);
    expect(await subscribeCodes(wide, ['home/#'])).toEqual([1]);
    wide.publish('$SYS/broker/fake', 'x');
    await closedWithin(wide, 2000);
  });

  test('deny/will-on-forbidden-topic refuses the CONNECT with 5', async () => {
    const { access_token } = await lk.token('t1', secrets.t1!);
    const attempt = connectDevice(lk.mqttUrl, 't1', access_token, { will: { topic: 'home/t2/setpoint', payload: Buffer.from('30'), qos: 0, retain: false } });
    await expect(attempt).rejects.toMatchObject({ code: 5 });
    const ok = await connectDevice(lk.mqttUrl, 't1', access_token, { will: { topic: 'home/t1/telemetry', payload: Buffer.from('offline'), qos: 0, retain: false } });
    await ok.endAsync();
  });

  test('retained messages reach only subscribers allowed to receive them', async () => {
    const hub = await device('hub');
    await hub.publishAsync('home/t2/setpoint', '17', { qos: 1, retain: true });
    const t1 = await device('t1');
    const atT1 = collect(t1);
    expect(await subscribeCodes(t1, ['home/t2/setpoint', 'home/t1/setpoint'])).toEqual([128, 1]);
    const t2 = await device('t2');
    const atT2 = collect(t2);
    expect(await subscribeCodes(t2, ['home/t2/setpoint'])).toEqual([1]);
    await eventually(() => atT2.length === 1);
    expect(atT2[0]).toMatchObject({ topic: 'home/t2/setpoint', payload: '17', retain: true });
    expect(atT1).toEqual([]);
    await Promise.all([hub, t1, t2].map((c) => c.endAsync()));
  });

  test('a scope change drops subscriptions no longer allowed and withholds their messages', async () => {
    secrets.watcher = lk.createClient('watcher', 'mqtt:subscribe:home/+/telemetry');
    const watcher = await device('watcher');
    const seen = collect(watcher);
    expect(await subscribeCodes(watcher, ['home/+/telemetry'])).toEqual([1]);
    lk.server.registry.setScope('watcher', 'mqtt:subscribe:home/t1/telemetry', 'test');
    await eventually(() => lk.server.broker.sessions().find((s) => s.client_id === 'watcher')?.subscriptions.length === 0, 2000, 'subscription dropped');
    const t1 = await device('t1');
    await t1.publishAsync('home/t1/telemetry', '22', { qos: 1 });
    await sleep(200);
    expect(seen).toEqual([]);
    expect(watcher.connected).toBe(true);
    await Promise.all([watcher.endAsync(), t1.endAsync()]);
  });
});
