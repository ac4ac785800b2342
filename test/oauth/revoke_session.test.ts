import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/latchkey.js';
import { closedWithin, connectDevice } from '../helpers/mqtt.js';
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
    const client = await connectDevice(t.mqttUrl, 'live-1', access_token);
    const res = await post(`${t.baseUrl}/oauth/revoke`, { token: access_token }, { authorization: basic('live-1', secret) });
    // Committed when the answer arrives; the second is counted from there (0 if the session ended first).
    const revokedAt = Date.now();
    expect(res.status).toBe(200);
    await closedWithin(client, 1000, revokedAt);
  });
});
