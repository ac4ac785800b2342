import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { QoS } from 'mqtt-packet';
import mqttPacket from 'mqtt-packet';
import { afterEach, describe, expect, test } from 'vitest';
import { type ChildServer, startChildServer } from '../helpers/child_server.js';
import { runCli, tempDir } from '../helpers/latchkey.js';
import { collect, connect, connectDevice, eventually, refusalCode, sleep } from '../helpers/mqtt.js';
import { rawMqtt, withoutCleanSession } from '../helpers/raw_mqtt.js';
import { clientCredentialsToken } from '../helpers/token.js';

/**
 * Tokens never reach the disk: no access token, client secret, PAT or API
 * key is written to the database, its WAL or the logs — not even for a
 * moment, since SQLite keeps deleted bytes in free pages and old WAL frames.
 * Renewals over `$auth` run at QoS 0, 1 and 2 for a persistent and a clean
 * session; then every byte of every file under --data-dir (and every log
 * line, at debug level) is searched for each token's signature and for each
 * secret, after a clean stop and after kill -9.
 */

interface Run {
  root: string;
  dataDir: string;
  certsDir: string;
  server: ChildServer;
  /** Everything the server wrote to stdout and stderr. */
  logs: () => string;
  /** What must never be found, by label. */
  needles: Map<string, string>;
}

const runs: Run[] = [];
afterEach(async () => {
  for (const run of runs.splice(0)) {
    if (run.server.child.exitCode === null && run.server.child.signalCode === null) await run.server.crash();
    rmSync(run.root, { recursive: true, force: true });
  }
});

/** The part of a JWT no one can recompute: finding it means the token was written. */
function signatureOf(jwt: string): string {
  const signature = jwt.split('.')[2];
  if (!signature || signature.length < 40) throw new Error('not a JWT');
  return signature;
}

/** Every regular file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path);
    return entry.isFile() ? [path] : [];
  });
}

/** `label in file` for each needle found anywhere in any file's bytes. */
function findOnDisk(dir: string, needles: Map<string, string>): string[] {
  const found: string[] = [];
  for (const file of filesUnder(dir)) {
    const bytes = readFileSync(file);
    for (const [label, needle] of needles) {
      if (bytes.includes(Buffer.from(needle))) found.push(`${label} in ${file.slice(dir.length + 1)}`);
    }
  }
  return found;
}

/** `label in the logs: <the line, needle masked>` for each needle found in a log line. */
function findInText(text: string, needles: Map<string, string>): string[] {
  const lines = text.split('\n');
  return [...needles].flatMap(([label, needle]) => {
    const line = lines.find((l) => l.includes(needle));
    return line === undefined ? [] : [`${label} in the logs: ${line.replaceAll(needle, '<needle>').slice(0, 300)}`];
  });
}

async function cli(run: Pick<Run, 'dataDir' | 'certsDir'>, ...args: string[]): Promise<Record<string, string>> {
  const result = await runCli([...args, '--data-dir', run.dataDir, '--certs-dir', run.certsDir, '--json']);
  if (result.code !== 0) throw new Error(`${args.join(' ')}: ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, string>;
}

/** Registers two devices, a user with a PAT and an API key, then starts the server at debug level. */
async function startRun(): Promise<Run & { secrets: Record<string, string> }> {
  const root = tempDir('latchkey-at-rest-');
  const paths = { root, dataDir: join(root, 'data'), certsDir: join(root, 'certs') };
  const needles = new Map<string, string>();
  const secrets: Record<string, string> = {};
  await cli(paths, 'init');
  for (const id of ['dev', 'cln']) {
    secrets[id] = (await cli(paths, 'client', 'create', id, '--scope', 'mqtt:publish:x/{client_id}'))['client_secret']!;
    needles.set(`client secret of ${id}`, secrets[id]!);
  }
  await cli(paths, 'user', 'create', 'alice', '--scope', 'mqtt:subscribe:x/#');
  secrets.pat = (await cli(paths, 'pat', 'create', 'alice', '--name', 'phone', '--scope', 'mqtt:subscribe:x/#'))['token']!;
  needles.set('PAT', secrets.pat);
  secrets.key = (await cli(paths, 'apikey', 'create', 'int', '--scope', 'mqtt:subscribe:x/#'))['key']!;
  needles.set('API key', secrets.key);

  const server = await startChildServer(paths.dataDir, paths.certsDir, ['--log-level', 'debug']);
  let output = '';
  server.child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  server.child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const run = { ...paths, server, logs: () => output, needles, secrets };
  runs.push(run);
  return run;
}

/** Asks over `$auth/<id>/…` and waits for the answer with the same request_id. */
async function ask(device: MqttClient, id: string, kind: 'token/request' | 'reauth', body: Record<string, unknown>, qos: QoS): Promise<Record<string, unknown>> {
  const requestId = `${kind}-${qos}-${Math.random().toString(36).slice(2)}`;
  const answer = new Promise<Record<string, unknown>>((resolve) => {
    const onMessage = (topic: string, payload: Buffer) => {
      const parsed = JSON.parse(payload.toString()) as Record<string, unknown>;
      if (topic !== `$auth/${id}/${kind === 'reauth' ? 'reauth' : 'token'}/response` || parsed.request_id !== requestId) return;
      device.off('message', onMessage);
      resolve(parsed);
    };
    device.on('message', onMessage);
  });
  await device.publishAsync(`$auth/${id}/${kind}`, JSON.stringify({ request_id: requestId, ...body }), { qos });
  return answer;
}

/**
 * One device renews at QoS 0, 1 and 2 (subscription and publish), by
 * `token/request` and by `reauth`; every token it sees becomes a needle.
 */
async function renewAtEveryQos(run: Run & { secrets: Record<string, string> }, id: string, clean: boolean): Promise<void> {
  const http = `http://127.0.0.1:${run.server.ports.http}`;
  const first = (await clientCredentialsToken(http, id, run.secrets[id]!)).access_token;
  run.needles.set(`${id} connect token`, signatureOf(first));
  const device = await connectDevice(`mqtt://127.0.0.1:${run.server.ports.mqtt}`, id, first, { clean });
  for (const qos of [0, 1, 2] as const) {
    await device.subscribeAsync(`$auth/${id}/#`, { qos });
    // The broker allows one renewal per second per session.
    await sleep(1100);
    const issued = await ask(device, id, 'token/request', {}, qos);
    expect(issued.access_token, JSON.stringify(issued)).toEqual(expect.any(String));
    run.needles.set(`${id} token/request QoS ${qos}`, signatureOf(issued.access_token as string));
    await sleep(1100);
    const obtained = (await clientCredentialsToken(http, id, run.secrets[id]!)).access_token;
    run.needles.set(`${id} reauth QoS ${qos}`, signatureOf(obtained));
    expect(await ask(device, id, 'reauth', { access_token: obtained }, qos)).toMatchObject({ ok: true });
  }
  if (!clean) {
    // A request sent just before going offline: its answer may find the session offline.
    await sleep(1100);
    await device.publishAsync(`$auth/${id}/token/request`, JSON.stringify({ request_id: 'offline' }), { qos: 1 });
  }
  await device.endAsync();
  if (!clean) {
    const token = (await clientCredentialsToken(http, id, run.secrets[id]!)).access_token;
    run.needles.set(`${id} reconnect token`, signatureOf(token));
    const back = await connectDevice(`mqtt://127.0.0.1:${run.server.ports.mqtt}`, id, token, { clean: false });
    await sleep(200);
    await back.endAsync();
  }
}

/**
 * A user's persistent session subscribed at QoS 1 and 2 to its `$auth`
 * topics is offline while another session of the same user publishes a
 * reauth carrying the PAT: the broker must not queue that request for it.
 * An API key session does the same at QoS 2.
 */
async function queueForOfflineSession(run: Run & { secrets: Record<string, string> }): Promise<void> {
  const url = `mqtt://127.0.0.1:${run.server.ports.mqtt}`;
  const phone = await connect(url, { clientId: 'alice@phone', username: 'alice', password: run.secrets.pat!, clean: false });
  await phone.subscribeAsync('$auth/alice/#', { qos: 2 });
  await phone.endAsync();
  const laptop = await connect(url, { clientId: 'alice@laptop', username: 'alice', password: run.secrets.pat! });
  const refused = collect(laptop);
  await laptop.subscribeAsync('$auth/alice/#', { qos: 1 });
  for (const qos of [1, 2] as const) {
    await laptop.publishAsync('$auth/alice/reauth', JSON.stringify({ request_id: `pat-${qos}`, access_token: run.secrets.pat }), { qos });
  }
  await eventually(() => refused.length >= 2, 5000, 'answers to the user session');
  await laptop.endAsync();
  const integration = await connect(url, { clientId: 'int', username: 'int', password: run.secrets.key!, clean: false });
  await integration.subscribeAsync('$auth/int/#', { qos: 2 });
  await integration.publishAsync('$auth/int/reauth', JSON.stringify({ request_id: 'key', access_token: run.secrets.key }), { qos: 2 });
  await integration.endAsync();
}

/**
 * A QoS 2 reauth whose PUBREL never comes: the broker holds the packet
 * until then (MQTT-4.3.3-2), and the process is about to die.
 */
async function reauthAwaitingPubrel(run: Run & { secrets: Record<string, string> }, id: string): Promise<void> {
  const http = `http://127.0.0.1:${run.server.ports.http}`;
  const token = (await clientCredentialsToken(http, id, run.secrets[id]!)).access_token;
  run.needles.set(`${id} raw connect token`, signatureOf(token));
  const pending = (await clientCredentialsToken(http, id, run.secrets[id]!)).access_token;
  run.needles.set(`${id} reauth awaiting PUBREL`, signatureOf(pending));
  const raw = rawMqtt(run.server.ports.mqtt, { clientId: id, username: id, password: token, clean: false }, withoutCleanSession);
  expect(await raw.connack).toBe(0);
  const pubrec = new Promise<void>((resolve) => {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p) => p.cmd === 'pubrec' && resolve());
    raw.socket.on('data', (d) => parser.parse(d));
  });
  raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `$auth/${id}/#`, qos: 2 }] });
  raw.send({
    cmd: 'publish',
    topic: `$auth/${id}/reauth`,
    payload: JSON.stringify({ request_id: 'held', access_token: pending }),
    qos: 2,
    messageId: 7,
    retain: false,
    dup: false,
  });
  await pubrec;
}

/**
 * Credentials where a careless server would log or audit them: a token
 * or a client secret typed into the MQTT username, secrets as client ids, a near-miss client
 * secret, a JWT where the admin API wants a PAT, a body that does not parse,
 * a forged token in a reauth. Each is refused; none may be written.
 */
async function misplacedCredentials(run: Run & { secrets: Record<string, string> }): Promise<void> {
  const http = `http://127.0.0.1:${run.server.ports.http}`;
  const url = `mqtt://127.0.0.1:${run.server.ports.mqtt}`;
  const token = (await clientCredentialsToken(http, 'dev', run.secrets.dev!)).access_token;
  run.needles.set('token typed as username', signatureOf(token));
  expect(await refusalCode(connect(url, { clientId: 'dev', username: token }))).toBeGreaterThan(0);
  expect(await refusalCode(connect(url, { clientId: 'dev', username: run.secrets.dev! }))).toBeGreaterThan(0);
  expect(await refusalCode(connect(url, { clientId: 'alice', username: run.secrets.pat!, password: 'wrong' }))).toBeGreaterThan(0);
  expect(await refusalCode(connect(url, { clientId: run.secrets.key!, username: 'int', password: 'wrong' }))).toBeGreaterThan(0);

  const nearMiss = `${run.secrets.cln!.slice(0, -1)}${run.secrets.cln!.endsWith('A') ? 'B' : 'A'}`;
  run.needles.set('near-miss client secret', nearMiss);
  const basic = await fetch(`${http}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`cln:${nearMiss}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  });
  expect(basic.status).toBe(401);
  const post = await fetch(`${http}/oauth/token?client_secret=${nearMiss}`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'cln', client_secret: nearMiss }),
  });
  expect(post.status).toBe(401);

  // A secret pasted into client_id (Basic user, form field) names no client: the refusal is audited without it.
  for (const pasted of [run.secrets.dev!, run.secrets.pat!]) {
    const asBasic = await fetch(`${http}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${pasted}:${pasted}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    expect(asBasic.status).toBe(401);
    const asForm = await fetch(`${http}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: pasted, client_secret: 'x' }),
    });
    expect(asForm.status).toBe(401);
  }

  const admin = await fetch(`${http}/admin/clients`, { headers: { authorization: `Bearer ${token}` } });
  expect(admin.status).toBe(401);
  const broken = await fetch(`${http}/admin/clients`, {
    method: 'POST',
    headers: { authorization: `Bearer ${run.secrets.key}`, 'content-type': 'application/json' },
    body: `{"client_id":"x","scope":"${run.secrets.pat}`,
  });
  expect(broken.status).toBeGreaterThanOrEqual(400);

  const device = await connectDevice(url, 'dev', token);
  await device.subscribeAsync('$auth/dev/#', { qos: 1 });
  const forged = `${token.slice(0, token.lastIndexOf('.') + 1)}${'A'.repeat(86)}`;
  run.needles.set('forged reauth token', forged.slice(-86 - 20));
  expect(await ask(device, 'dev', 'reauth', { access_token: forged }, 1)).toMatchObject({ error: expect.any(String) });
  // Resolves on PUBCOMP: by then the broker has held the packet and parsed (and refused) the request.
  await device.publishAsync('$auth/dev/reauth', `{"request_id":"broken","access_token":"${token}`, { qos: 2 });
  await device.endAsync();
}

/** Stops the server with SIGTERM (a clean close) and waits for it to exit. */
async function stopCleanly(server: ChildServer): Promise<void> {
  server.child.kill('SIGTERM');
  const exit = await server.exited;
  expect(exit.code).toBe(0);
}

describe('tokens and secrets at rest', () => {
  test('renewals at QoS 0, 1 and 2 leave no token or secret under --data-dir or in the logs after a clean stop', async () => {
    const run = await startRun();
    await Promise.all([renewAtEveryQos(run, 'dev', false), renewAtEveryQos(run, 'cln', true), queueForOfflineSession(run)]);
    await misplacedCredentials(run);
    await stopCleanly(run.server);
    expect(run.needles.size).toBeGreaterThanOrEqual(22);
    expect(findOnDisk(run.dataDir, run.needles)).toEqual([]);
    // The logs searched are the real ones, at debug level, renewals included.
    expect(run.logs()).toContain('"session.renewed"');
    expect(findInText(run.logs(), run.needles)).toEqual([]);
  }, 60_000);

  test('a QoS 2 reauth awaiting PUBREL and queued requests leave nothing on disk after kill -9', async () => {
    const run = await startRun();
    await Promise.all([renewAtEveryQos(run, 'cln', true), queueForOfflineSession(run)]);
    await reauthAwaitingPubrel(run, 'dev');
    await run.server.crash();
    const files = filesUnder(run.dataDir).map((file) => file.slice(run.dataDir.length + 1));
    expect(files.some((file) => file.endsWith('-wal') && statSync(join(run.dataDir, file)).size > 0), 'the WAL is searched too').toBe(true);
    expect(findOnDisk(run.dataDir, run.needles)).toEqual([]);
    expect(findInText(run.logs(), run.needles)).toEqual([]);
  }, 60_000);
});
