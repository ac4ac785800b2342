import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Device, DeviceError, type DeviceEvent } from '../../device-sim/lib/index.js';
import { ensurePki } from '../../src/pki/ca.js';
import { issueDeviceCertificate } from '../../src/pki/issue_certificate.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/latchkey.js';
import { certificatesOf } from '../helpers/mtls.js';
import { FAST_RECONNECT, jwtDevice, LAB_SCOPE, types } from './fixture.js';

/** Publishes to the device's own lab topic and waits for it to come back; `subscribe: false` relies on a subscription made earlier. */
async function echo(device: Device, text: string, opts: { subscribe?: boolean } = {}): Promise<void> {
  const topic = `lab/${device.clientId}/echo`;
  if (opts.subscribe !== false) await device.subscribe(topic);
  const received = new Promise<string>((resolve) => {
    device.on('message', (t, payload) => {
      if (t === topic && payload.toString() === text) resolve(text);
    });
  });
  await device.publish(topic, text, { qos: 1 });
  await expect(received).resolves.toBe(text);
}

describe('Device reconnects after the server restarts', () => {
  it('rides out a restart on the same data directory and ports, with backoff, and resubscribes', async () => {
    const first = await startTestServer();
    const root = dirname(first.dataDir);
    const secret = first.createClient('lab-restart', LAB_SCOPE, { tokenTtl: 600 });
    const events: DeviceEvent[] = [];
    const device = await Device.connect(jwtDevice(first, 'lab-restart', secret, events));
    let second: TestServer | null = null;
    try {
      await device.subscribe(`lab/lab-restart/echo`);
      const { mqtt, mqtts, http, https } = first.server.ports;
      await first.server.close(); // keeps the data directory, unlike first.close()
      await device.waitFor('disconnected', () => true, 5_000);
      // Let it fail against the closed port a few times.
      await device.waitFor('reconnecting', (e) => e.attempt >= 3, 10_000);

      second = await startTestServer({
        dataDir: first.dataDir,
        certsDir: first.certsDir,
        mqttPort: String(mqtt),
        mqttsPort: String(mqtts),
        httpPort: String(http),
        httpsPort: String(https),
      });
      await device.waitFor('connected', () => true, 10_000);

      const afterDrop = events.slice(events.findIndex((e) => e.type === 'disconnected'));
      const delays = afterDrop.filter((e): e is Extract<DeviceEvent, { type: 'reconnecting' }> => e.type === 'reconnecting').map((e) => e.delayMs);
      expect(delays.length).toBeGreaterThanOrEqual(3);
      expect(delays.every((d) => d >= FAST_RECONNECT.minMs && d <= FAST_RECONNECT.maxMs)).toBe(true);
      // The token outlived the outage (same signing key on disk), so no new one was needed.
      expect(types(afterDrop)).not.toContain('token_fetched');
      // The application subscription (clean session) was restored by the device, not asked for again.
      await echo(device, 'after restart', { subscribe: false });
    } finally {
      await device.close();
      await second?.close();
      rmSync(root, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('Device in certificate mode (MQTTS)', () => {
  let server: TestServer;
  let ca: string;
  beforeAll(async () => {
    server = await startTestServer();
    ca = readFileSync(join(server.certsDir, 'ca.crt'), 'utf8');
  });
  afterAll(() => server?.close());

  it('connects with its certificate, no password, and exchanges messages', async () => {
    server.createClient('cert-1', LAB_SCOPE);
    // Through the registry, as `cert issue` does: latchkey accepts only certificates it recorded.
    const issued = await (await certificatesOf(server)).issue('cert-1', { days: 1 }, 'test');
    const events: DeviceEvent[] = [];
    const device = await Device.connect({
      clientId: 'cert-1',
      mqttUrl: server.mqttsUrl,
      cert: issued.certPem,
      key: issued.keyPem!,
      ca,
      reconnect: FAST_RECONNECT,
      onEvent: (e) => events.push(e),
    });
    try {
      expect(types(events)).toEqual(['connecting', 'connected']);
      expect(events[1]).toMatchObject({ mode: 'certificate', url: server.mqttsUrl });
      expect(device.currentToken).toBeNull();
      await echo(device, 'signed');
    } finally {
      await device.close();
    }
  });

  it('is refused with a certificate from another CA', async () => {
    server.createClient('cert-2', LAB_SCOPE);
    const foreignDir = tempDir('latchkey-foreign-ca-');
    try {
      const foreign = await ensurePki(foreignDir);
      const issued = await issueDeviceCertificate(foreign.ca, { clientId: 'cert-2', days: 1 });
      const err = await Device.connect({ clientId: 'cert-2', mqttUrl: server.mqttsUrl, cert: issued.certPem, key: issued.keyPem!, ca }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DeviceError);
      expect({ code: (err as DeviceError).code, returnCode: (err as DeviceError).returnCode }).toEqual({ code: 'refused', returnCode: 4 });
    } finally {
      rmSync(foreignDir, { recursive: true, force: true });
    }
  });
});
