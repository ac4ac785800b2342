/**
 * A node whose PostgreSQL goes away: /healthz says so, live sessions keep
 * working, and everything comes back when PostgreSQL does. The outage is
 * real: the node reaches PostgreSQL through a TCP relay this test cuts.
 */
import { once } from 'node:events';
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnTimeout, startTestServer, type TestServer } from '../helpers/latchkey.js';
import { collect, connectDevice, eventually } from '../helpers/mqtt.js';
import { havePostgres, postgresDatabase, TEST_POSTGRES, type TestDatabase } from '../helpers/services.js';

interface Relay {
  port: number;
  /** Drops every connection and refuses new ones. */
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The relay runs in its own process: the node under test blocks its event
 * loop on every statement (the synchronous driver), so a relay on that loop
 * could never forward the answer it waits for. Commands on stdin, replies on stdout.
 */
const RELAY_SCRIPT = `
const net = require('node:net');
const [host, port] = process.argv.slice(1);
const sockets = new Set();
let open = true;
const server = net.createServer((inbound) => {
  if (!open) return inbound.destroy();
  const outbound = net.createConnection({ host, port: Number(port) });
  for (const s of [inbound, outbound]) { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => {}); }
  inbound.pipe(outbound).pipe(inbound);
});
server.listen(0, '127.0.0.1', () => console.log('port ' + server.address().port));
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'cut') { open = false; for (const s of sockets) s.destroy(); }
  if (line === 'restore') open = true;
  console.log('ok ' + line);
});
`;

async function relayTo(host: string, port: number): Promise<Relay> {
  const child: ChildProcess = spawn(process.execPath, ['-e', RELAY_SCRIPT, host, String(port)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const replies: string[] = [];
  lines.on('line', (line) => replies.push(line));
  const reply = async (prefix: string): Promise<string> => {
    for (;;) {
      const index = replies.findIndex((r) => r.startsWith(prefix));
      if (index >= 0) return replies.splice(index, 1)[0]!;
      await once(lines, 'line');
    }
  };
  const relayPort = Number((await reply('port ')).slice(5));
  const command = async (line: string): Promise<void> => {
    child.stdin!.write(`${line}\n`);
    await reply(`ok ${line}`);
  };
  return {
    port: relayPort,
    cut: () => command('cut'),
    restore: () => command('restore'),
    async close() {
      if (child.exitCode !== null) return;
      child.kill('SIGKILL');
      await once(child, 'exit');
    },
  };
}

async function health(lk: TestServer): Promise<{ status: number; body: Record<string, unknown>; ms: number }> {
  const started = Date.now();
  const res = await fetch(`${lk.baseUrl}/healthz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, ms: Date.now() - started };
}

describe.skipIf(!havePostgres())('a node whose PostgreSQL is unreachable (skipped without PostgreSQL)', { timeout: spawnTimeout(4) }, () => {
  let db: TestDatabase | null = null;
  let relay: Relay | null = null;
  let lk: TestServer | null = null;
  afterEach(async () => {
    await lk?.close();
    await relay?.close();
    await db?.drop();
    lk = relay = db = null;
  });

  it('/healthz answers 503 store_unavailable within about a second, live sessions keep publishing, and all is well again after', async () => {
    db = await postgresDatabase();
    const target = new URL(TEST_POSTGRES);
    relay = await relayTo(target.hostname, Number(target.port || 5432));
    const viaRelay = new URL(db.url);
    viaRelay.host = `127.0.0.1:${relay.port}`;
    lk = await startTestServer({ store: viaRelay.toString() });
    expect((await health(lk)).status).toBe(200);

    const secret = lk.createClient('steady', 'mqtt:publish:dev/{client_id}/# mqtt:subscribe:dev/{client_id}/#');
    const { access_token } = await lk.token('steady', secret);
    const device = await connectDevice(lk.mqttUrl, 'steady', access_token);
    const seen = collect(device);
    await device.subscribeAsync('dev/steady/#', { qos: 1 });

    await relay.cut();
    let down: Awaited<ReturnType<typeof health>> | undefined;
    await eventually(async () => (down = await health(lk!)).status === 503, 10_000, '/healthz saying the store is down');
    expect(down!.body).toEqual({ status: 'unavailable', reason: 'store_unavailable' });
    // The probe waits at most 1 s: a balancer's health check is not held for the statement timeout.
    const again = await health(lk);
    expect(again.status).toBe(503);
    expect(again.ms).toBeLessThan(3_000);

    // The session connected before the outage goes on.
    await device.publishAsync('dev/steady/t', 'during the outage', { qos: 1 });
    await eventually(() => seen.some((m) => m.payload === 'during the outage'), 5_000, 'the message published during the outage');
    expect(device.connected).toBe(true);

    await relay.restore();
    await eventually(async () => (await health(lk!)).status === 200, 10_000, '/healthz back to 200');
    lk.server.registry.setStatus('steady', 'disabled', 'test');
    await eventually(() => !device.connected, 5_000, 'the change feed working again');
  });
});
