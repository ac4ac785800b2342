import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type BenchContext, type Scenario, size } from '../harness/context.js';
import { compareRow, type Measurement, type Row } from '../harness/results.js';
import { summarise } from '../harness/stats.js';
import { connectPacket } from '../loadgen/encode.js';
import { formPost, httpLoad } from '../loadgen/http_load.js';
import { RawMqttClient } from '../loadgen/mqtt_client.js';
import { basicAuth, createClients, type Credential, fetchTokens, type LatchkeyUnderTest, mqttTarget, startLatchkey } from './fixtures.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
/** A session still open this long after its deadline counts as never closed. */
const GIVE_UP_MS = 5_000;
/** Lifetime of the expiry scenario's tokens, seconds: long enough to connect every session first. */
const EXPIRY_TTL = 5;

/**
 * How fast a live session ends once its credential stops being valid:
 * `client disable` from the CLI (a separate process writing the database),
 * `POST /oauth/revoke` over HTTP (the server's own process), and the token's
 * expiry. latchkey only: the references have no credentials to revoke.
 */
export const enforcementScenario: Scenario = {
  name: 'enforce',
  title: 'Enforcement latency: revocation and expiry → disconnect',
  async run(ctx) {
    const lk = await startLatchkey(ctx, 'enforce');
    try {
      return [await overHttp(ctx, lk), await fromCli(ctx, lk), await onExpiry(ctx, lk)];
    } finally {
      await lk.server.stop();
    }
  },
};

async function connectAll(lk: LatchkeyUnderTest, creds: Credential[], tokens: string[]): Promise<RawMqttClient[]> {
  const target = mqttTarget(lk.server, 'mqtt');
  const clients: RawMqttClient[] = [];
  for (const [i, c] of creds.entries()) {
    const { client, returnCode } = await RawMqttClient.connect(target, connectPacket({ clientId: c.id, username: c.id, password: tokens[i]! }));
    if (returnCode !== 0) throw new Error(`${c.id} refused with ${returnCode}`);
    clients.push(client);
  }
  return clients;
}

/** Resolves with the close time, or Infinity when the session outlives the give-up bound. */
function closedWithin(client: RawMqttClient, ms: number): Promise<number> {
  return Promise.race([client.closed, new Promise<number>((r) => setTimeout(() => r(Number.POSITIVE_INFINITY), ms).unref())]);
}

function latencyMeasurement(samples: number[], note?: string): Measurement {
  const s = summarise(samples.map((v) => (Number.isFinite(v) ? v : 1e9)));
  const open = samples.filter((v) => !Number.isFinite(v)).length;
  const notes = [note, open ? `${open} sessions never closed` : ''].filter(Boolean).join('; ');
  return { value: s.p99, unit: 'ms p99', reps: [s.p99], p50Ms: s.p50, p99Ms: s.p99, ...(notes ? { note: notes } : {}) };
}

function row(id: string, title: string, m: Measurement, limitMs: number, notes: string[]): Row {
  return compareRow({ id, scenario: 'enforce', title, latchkey: m, reference: null, target: { kind: 'abs-max', value: limitMs, unit: 'ms' }, notes });
}

async function overHttp(ctx: BenchContext, lk: LatchkeyUnderTest): Promise<Row> {
  const n = size(ctx, 200, 40);
  const creds = await createClients(lk.server, Array.from({ length: n }, (_, i) => `rv-${i}`), 'mqtt:publish:bench/{client_id}/#');
  const tokens = (await fetchTokens(lk.server, creds, 1)).map((t) => t[0]!);
  const clients = await connectAll(lk, creds, tokens);
  const port = lk.server.ports.http!;
  const samples: number[] = [];
  const statuses: Record<string, number> = {};
  // One at a time: each sample is one revocation on a quiet server.
  for (const [i, c] of creds.entries()) {
    const request = formPost(port, '/oauth/revoke', `token=${tokens[i]}&token_type_hint=access_token`, { authorization: basicAuth(c) });
    const sentAt = performance.now();
    const r = await httpLoad({ host: '127.0.0.1', port, connections: [[request]], timeLimitMs: 10_000, onBody: (status) => (statuses[status] = (statuses[status] ?? 0) + 1) });
    if (r.completed !== 1) throw new Error('revocation request failed');
    samples.push((await closedWithin(clients[i]!, GIVE_UP_MS)) - sentAt);
  }
  const m = latencyMeasurement(samples, statuses['200'] === n ? undefined : `statuses ${JSON.stringify(statuses)}`);
  ctx.log(`  revoke over HTTP: p50 ${m.p50Ms?.toFixed(1)} ms, p99 ${m.p99Ms?.toFixed(1)} ms over ${n}`);
  return row('enforce.revoke-http', 'Revocation → disconnect, POST /oauth/revoke', m, 100, [
    `${n} sessions, one revocation at a time, from sending the request to the socket closing (includes a new HTTP connection)`,
  ]);
}

async function fromCli(ctx: BenchContext, lk: LatchkeyUnderTest): Promise<Row> {
  const n = size(ctx, 20, 5);
  const creds = await createClients(lk.server, Array.from({ length: n }, (_, i) => `cli-${i}`), 'mqtt:publish:bench/{client_id}/#');
  const tokens = (await fetchTokens(lk.server, creds, 1)).map((t) => t[0]!);
  const clients = await connectAll(lk, creds, tokens);
  const fromExit: number[] = [];
  const fromSpawn: number[] = [];
  let early = 0;
  for (const [i, c] of creds.entries()) {
    const spawnedAt = performance.now();
    const { code, exitedAt, stderr } = await runCli(['client', 'disable', c.id, '--data-dir', lk.dataDir, '--certs-dir', lk.certsDir, '--json']);
    if (code !== 0) throw new Error(`client disable exited ${code}: ${stderr.trim()}`);
    const closedAt = await closedWithin(clients[i]!, GIVE_UP_MS);
    // The broker may notice the change before the CLI process has finished exiting.
    if (closedAt < exitedAt) early++;
    fromExit.push(Math.max(0, closedAt - exitedAt));
    fromSpawn.push(closedAt - spawnedAt);
  }
  const m = latencyMeasurement(fromExit);
  const spawn = summarise(fromSpawn);
  ctx.log(`  client disable via CLI: p50 ${m.p50Ms?.toFixed(0)} ms, p99 ${m.p99Ms?.toFixed(0)} ms after exit; p99 ${spawn.p99.toFixed(0)} ms from spawn`);
  return row('enforce.revoke-cli', 'Revocation → disconnect, CLI `client disable`', m, 1000, [
    `${n} sessions, from the CLI process exiting (change committed) to the socket closing; ${early} closed before the CLI had exited; from spawning the CLI: p50 ${spawn.p50.toFixed(0)} ms, p99 ${spawn.p99.toFixed(0)} ms`,
  ]);
}

async function onExpiry(ctx: BenchContext, lk: LatchkeyUnderTest): Promise<Row> {
  const n = size(ctx, 200, 40);
  const creds = await createClients(lk.server, Array.from({ length: n }, (_, i) => `exp-${i}`), 'mqtt:publish:bench/{client_id}/#', EXPIRY_TTL);
  const tokens = (await fetchTokens(lk.server, creds, 1)).map((t) => t[0]!);
  const clients = await connectAll(lk, creds, tokens);
  const samples = await Promise.all(
    clients.map(async (client, i) => {
      const exp = expOf(tokens[i]!) * 1000;
      const closed = await closedWithin(client, exp - Date.now() + GIVE_UP_MS);
      // performance.now() → wall clock, the clock `exp` is on.
      return performance.timeOrigin + closed - exp;
    }),
  );
  const m = latencyMeasurement(samples);
  ctx.log(`  expiry: p50 ${m.p50Ms?.toFixed(0)} ms, p99 ${m.p99Ms?.toFixed(0)} ms over ${n}`);
  return row('enforce.expiry', 'Expiry → disconnect', m, 1000, [`${n} sessions with ${EXPIRY_TTL} s tokens, from \`exp\` to the socket closing`]);
}

function expOf(jwt: string): number {
  const payload = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { exp: number };
  return payload.exp;
}

function runCli(args: string[]): Promise<{ code: number | null; exitedAt: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, exitedAt: performance.now(), stderr }));
  });
}
