import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/latchkey.js';
import { basic, post } from './http.js';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

describe('revocation over HTTP ends live MQTT sessions', () => {
  it('a session using the revoked token closes within a second', async () => {
    const secret = t.createClient('live-1', 'mqtt:publish:home/live-1/#');
    const { access_token } = await t.token('live-1', secret);
    const client = mqtt.connect(t.mqttUrl, { clientId: 'live-1', username: 'live-1', password: access_token, reconnectPeriod: 0 });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    const closed = new Promise<number>((resolve) => client.once('close', () => resolve(Date.now())));
    const started = Date.now();
    const res = await post(`${t.baseUrl}/oauth/revoke`, { token: access_token }, { authorization: basic('live-1', secret) });
    expect(res.status).toBe(200);
    const at = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 2000))]);
    client.end(true);
    expect(at).toBeGreaterThan(0);
    expect(at - started).toBeLessThan(1000);
  });
});
