import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type ChildServer, startChildServer } from '../helpers/child_server.js';
import { clientCredentialsToken } from '../helpers/token.js';
import { runCli, spawnTimeout, tempDir } from '../helpers/latchkey.js';
import { collect, connectDevice, connectDeviceCollecting, eventually, refusalCode, subscribeCodes } from '../helpers/mqtt.js';

/**
 * Nothing acknowledged is lost to kill -9 (docs/INTERFACE.md#durability): the server runs as
 * a child process, is SIGKILLed right after an acknowledgement, restarted on
 * the same data directory, and checked.
 */
const root = tempDir('latchkey-durability-');
const dataDir = join(root, 'data');
const certsDir = join(root, 'certs');
const cli = (...args: string[]) => runCli([...args, '--data-dir', dataDir, '--certs-dir', certsDir, '--json']);
let server: ChildServer | null = null;
const secrets: Record<string, string> = {};

function queuedRows(): number {
  const db = new Database(join(dataDir, 'latchkey.db'), { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM aedes_outgoing').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

async function token(id: string): Promise<string> {
  return (await clientCredentialsToken(`http://127.0.0.1:${server!.ports.http}`, id, secrets[id]!)).access_token;
}

beforeAll(async () => {
  expect((await cli('init')).code).toBe(0);
  for (const [id, scope] of [
    ['hub', 'mqtt:subscribe:home/+/telemetry mqtt:publish:home/+/setpoint'],
    ['t1', 'mqtt:publish:home/{client_id}/telemetry mqtt:subscribe:home/{client_id}/setpoint'],
  ] as const) {
    const created = await cli('client', 'create', id, '--scope', scope);
    expect(created.code).toBe(0);
    secrets[id] = (JSON.parse(created.stdout) as { client_secret: string }).client_secret;
  }
  server = await startChildServer(dataDir, certsDir);
}, spawnTimeout(3)); // two CLI commands and the server
afterAll(async () => {
  await server?.crash();
  rmSync(root, { recursive: true, force: true });
});

describe('kill -9', { timeout: spawnTimeout(5) }, () => {
  test('a retained message and a queued QoS 1 message, both acknowledged, survive', async () => {
    const t1 = await connectDevice(`mqtt://127.0.0.1:${server!.ports.mqtt}`, 't1', await token('t1'), { clean: false });
    expect(await subscribeCodes(t1, ['home/t1/setpoint'])).toEqual([1]);
    await t1.endAsync();
    const hub = await connectDevice(`mqtt://127.0.0.1:${server!.ports.mqtt}`, 'hub', await token('hub'));
    await hub.publishAsync('home/t1/setpoint', '21', { qos: 1 });
    // Aedes acknowledges a QoS 1 publish before it routes it, so the queued copy
    // is durable once routed (the same turn): wait for the row, then crash.
    await eventually(() => queuedRows() > 0, 3000, 'queued row');
    await hub.publishAsync('home/t2/setpoint', '18', { qos: 1, retain: true });
    // The retained message is stored before its PUBACK: crash right after it.
    await server!.crash();
    hub.end(true);

    server = await startChildServer(dataDir, certsDir);
    // Collecting from the CONNACK on: the queued message may come in the same read.
    const { client: back, seen } = await connectDeviceCollecting(`mqtt://127.0.0.1:${server.ports.mqtt}`, 't1', await token('t1'), { clean: false });
    await eventually(() => seen.some((m) => m.payload === '21'), 3000, 'queued message');
    expect(seen[0]).toMatchObject({ topic: 'home/t1/setpoint', payload: '21' });
    await back.endAsync();

    secrets.t2 = JSON.parse((await cli('client', 'create', 't2', '--scope', 'mqtt:subscribe:home/{client_id}/setpoint')).stdout).client_secret;
    const t2 = await connectDevice(`mqtt://127.0.0.1:${server.ports.mqtt}`, 't2', await token('t2'));
    const atT2 = collect(t2);
    await subscribeCodes(t2, ['home/t2/setpoint']);
    await eventually(() => atT2.length === 1, 3000, 'retained message');
    expect(atT2[0]).toMatchObject({ topic: 'home/t2/setpoint', payload: '18', retain: true });
    await t2.endAsync();
  });

  test('a revocation answered 200 over HTTP survives', async () => {
    const revoked = await token('t1');
    const res = await fetch(`http://127.0.0.1:${server!.ports.http}/oauth/revoke`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`t1:${secrets.t1}`).toString('base64')}` },
      body: new URLSearchParams({ token: revoked }),
    });
    expect(res.status).toBe(200);
    await server!.crash();
    server = await startChildServer(dataDir, certsDir);
    expect(await refusalCode(connectDevice(`mqtt://127.0.0.1:${server.ports.mqtt}`, 't1', revoked))).toBe(5);
  });
});
