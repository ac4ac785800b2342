import { Aedes } from 'aedes';
import Database from 'better-sqlite3';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { AEDES_PERSISTENCE_SCHEMA, createSqlitePersistence } from '../../src/store/aedes_persistence.js';
import { VOLATILE_LIMITS, VolatilePackets } from '../../src/store/aedes_persistence/volatile_packets.js';
import { createCredentialSafePersistence, type CredentialSafePersistence } from '../../src/store/credential_safe_persistence.js';
import { openDatabase } from '../../src/store/database.js';
import { eventually, sleep } from '../helpers/mqtt.js';

/**
 * The broker's persistence keeps packets on `$auth/…` and `$provision/…`
 * in memory with the semantics Aedes expects (queues for offline sessions,
 * QoS 2 deduplication, wills), and never writes them: each test searches
 * the database file and its WAL for the secret it sent.
 */
let dir: string;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** A plain Aedes (no latchkey hooks) on the credential-safe persistence over a database file in WAL mode. */
async function startBroker(neverDelivered?: (topic: string) => boolean) {
  dir = mkdtempSync(join(tmpdir(), 'latchkey-credsafe-'));
  const db = new Database(join(dir, 'latchkey.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(AEDES_PERSISTENCE_SCHEMA);
  const persistence = createCredentialSafePersistence(createSqlitePersistence(db), neverDelivered ? { neverDelivered } : {});
  const broker = await Aedes.createBroker({ persistence });
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  cleanups.push(async () => {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
    db.close();
  });
  const client = async (clientId: string, opts: mqtt.IClientOptions = {}): Promise<MqttClient> => {
    const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId, reconnectPeriod: 0, ...opts });
    // Recorded from the first packet: queued messages can come in the same read as the CONNACK, before connect resolves.
    messages(c);
    const sent: string[] = [];
    c.on('packetsend', (packet) => sent.push(packet.cmd));
    sentPackets.set(c, sent);
    cleanups.push(() => c.endAsync(true));
    await new Promise<void>((resolve, reject) => {
      c.once('connect', () => resolve());
      c.once('error', reject);
    });
    return c;
  };
  const rows = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  return { broker, persistence, port, client, rows, db };
}

/** Whether `needle` occurs in any file of the database directory (db, -wal, -shm). */
function onDisk(needle: string): boolean {
  return readdirSync(dir).some((file) => readFileSync(join(dir, file)).includes(Buffer.from(needle)));
}

function secret(label: string): string {
  return `${label}-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
}

const received = new WeakMap<MqttClient, { topic: string; payload: string; qos: number }[]>();
/** The packet types each client sent, from its CONNECT on. */
const sentPackets = new WeakMap<MqttClient, string[]>();

/** Every message the client received since it was created (one list per client). */
function messages(client: MqttClient): { topic: string; payload: string; qos: number }[] {
  let seen = received.get(client);
  if (!seen) {
    const list: { topic: string; payload: string; qos: number }[] = [];
    client.on('message', (topic, payload, packet) => list.push({ topic, payload: payload.toString(), qos: packet.qos }));
    received.set(client, list);
    seen = list;
  }
  return seen;
}

function publish(broker: Aedes, topic: string, payload: string, qos: 0 | 1 | 2, retain = false): Promise<void> {
  return new Promise((resolve, reject) =>
    broker.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos, retain, dup: false }, (err) => (err ? reject(err) : resolve())),
  );
}

describe('CredentialSafePersistence under Aedes', () => {
  it('queues QoS 1 and 2 answers on $auth for an offline persistent session in memory, in order, and delivers them once', async () => {
    const { broker, client, rows } = await startBroker();
    const device = await client('dev', { clean: false });
    await device.subscribeAsync({ '$auth/dev/#': { qos: 2 }, 'lk/queued': { qos: 1 } });
    await device.endAsync();

    const first = secret('token-one');
    const second = secret('token-two');
    await publish(broker, '$auth/dev/token/response', first, 1);
    await publish(broker, 'lk/queued', 'durable-neighbour', 1);
    await publish(broker, '$auth/dev/token/response', second, 2);
    // The ordinary message is queued on disk (so the search below would see a write); the answers are not.
    expect(rows('aedes_outgoing')).toBe(1);
    expect(onDisk('durable-neighbour')).toBe(true);
    expect(onDisk(first)).toBe(false);
    expect(onDisk(second)).toBe(false);

    const back = await client('dev', { clean: false });
    const seen = messages(back);
    const acks = sentPackets.get(back)!;
    await eventually(() => seen.length === 3, 3000, 'three queued messages');
    expect(seen.filter((m) => m.topic.startsWith('$auth/'))).toEqual([
      { topic: '$auth/dev/token/response', payload: first, qos: 1 },
      { topic: '$auth/dev/token/response', payload: second, qos: 2 },
    ]);
    expect(seen).toContainEqual({ topic: 'lk/queued', payload: 'durable-neighbour', qos: 1 });
    // Acknowledged (PUBACK, PUBREC/PUBREL/PUBCOMP): a second return gets nothing again. The broker reads the
    // acknowledgements before the DISCONNECT that follows them on the same connection.
    await eventually(() => acks.filter((c) => c === 'puback').length === 2 && acks.includes('pubcomp'), 5000, 'acknowledgements sent');
    await back.endAsync();
    const again = await client('dev', { clean: false });
    const replayed = messages(again);
    await sleep(300);
    expect(replayed).toEqual([]);
    expect(rows('aedes_outgoing')).toBe(0);
    expect(onDisk(first) || onDisk(second)).toBe(false);
  });

  it('holds a QoS 2 PUBLISH on $auth until PUBREL in memory: a resend is not delivered twice', async () => {
    const { port, client, rows } = await startBroker();
    const watcher = await client('watcher');
    await watcher.subscribeAsync('$auth/dev/#', { qos: 2 });
    const seen = messages(watcher);

    const token = secret('reauth-token');
    const socket = (await import('node:net')).connect(port, '127.0.0.1');
    cleanups.push(() => void socket.destroy());
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const received: string[] = [];
    socket.on('data', (d) => parser.parse(d));
    parser.on('packet', (p) => received.push(p.cmd));
    const send = (packet: object) => socket.write(mqttPacket.generate(packet as mqttPacket.Packet));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 60, clientId: 'dev' });
    const reauth = { cmd: 'publish', topic: '$auth/dev/reauth', payload: token, qos: 2, messageId: 9, retain: false, dup: false };
    send(reauth);
    await eventually(() => received.filter((c) => c === 'pubrec').length === 1, 3000, 'PUBREC');
    expect(rows('aedes_incoming')).toBe(0);
    send({ ...reauth, dup: true });
    await eventually(() => received.filter((c) => c === 'pubrec').length === 2, 3000, 'second PUBREC');
    send({ cmd: 'pubrel', messageId: 9 });
    await eventually(() => received.includes('pubcomp'), 3000, 'PUBCOMP');
    await eventually(() => seen.length > 0, 5000, 'the reauth delivered');
    await sleep(200); // and not a second time
    expect(seen).toEqual([{ topic: '$auth/dev/reauth', payload: token, qos: 2 }]);
    expect(onDisk(token)).toBe(false);
  });

  it('refuses more QoS 2 packets awaiting PUBREL than the bound, closing the connection', async () => {
    const { port } = await startBroker();
    const socket = (await import('node:net')).connect(port, '127.0.0.1');
    cleanups.push(() => void socket.destroy());
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => {});
    // Read (and ignore) what the broker sends: an unread socket never reports its close.
    socket.resume();
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const send = (packet: object) => socket.write(mqttPacket.generate(packet as mqttPacket.Packet));
    send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 60, clientId: 'flood' });
    for (let id = 1; id <= VOLATILE_LIMITS.incoming + 1; id++) {
      send({ cmd: 'publish', topic: '$auth/flood/reauth', payload: 'x', qos: 2, messageId: id, retain: false, dup: false });
    }
    await closed;
  });

  it('keeps a will on $auth in memory and still publishes it when the connection drops', async () => {
    const { client, rows } = await startBroker();
    const watcher = await client('watcher');
    await watcher.subscribeAsync('$auth/dev/#', { qos: 1 });
    const seen = messages(watcher);
    const token = secret('will-token');
    const device = await client('dev', { will: { topic: '$auth/dev/reauth', payload: Buffer.from(token), qos: 1, retain: false } });
    expect(rows('aedes_wills')).toBe(0);
    (device.stream as unknown as { destroy(): void }).destroy();
    await eventually(() => seen.length === 1, 3000, 'the will');
    expect(seen[0]).toEqual({ topic: '$auth/dev/reauth', payload: token, qos: 1 });
    expect(onDisk(token)).toBe(false);
  });

  it('never retains a message on $auth or $provision, and still stores other retained messages', async () => {
    const { broker, client, rows } = await startBroker();
    const token = secret('retained-token');
    const clientSecret = secret('retained-secret');
    await publish(broker, '$auth/dev/token/response', token, 1, true);
    await publish(broker, '$provision/dev/register/response', clientSecret, 1, true);
    await publish(broker, 'lk/retained', 'kept', 1, true);
    expect(rows('aedes_retained')).toBe(1);
    const late = await client('late');
    const seen = messages(late);
    await late.subscribeAsync(['$auth/dev/#', '$provision/dev/#', 'lk/#'], { qos: 1 });
    await eventually(() => seen.length > 0, 5000, 'the retained message');
    await sleep(200); // time for anything else retained to arrive too
    expect(seen).toEqual([{ topic: 'lk/retained', payload: 'kept', qos: 1 }]);
    expect(onDisk(token) || onDisk(clientSecret)).toBe(false);
  });

  it('does not queue requests that are delivered to nobody', async () => {
    const { client, persistence } = await startBroker((topic) => topic.endsWith('/reauth'));
    const device = await client('dev', { clean: false });
    await device.subscribeAsync('$auth/dev/#', { qos: 1 });
    await device.endAsync();
    const sender = await client('sender');
    await sender.publishAsync('$auth/dev/reauth', secret('request'), { qos: 1 });
    await sender.publishAsync('$auth/dev/token/response', 'answer', { qos: 1 });
    const queued = await drain(persistence, 'dev');
    expect(queued.map((p) => p.topic)).toEqual(['$auth/dev/token/response']);
  });
});

async function drain(persistence: CredentialSafePersistence, id: string) {
  const packets: { topic?: string }[] = [];
  for await (const packet of persistence.outgoingStream({ id })) packets.push(packet as { topic?: string });
  return packets;
}

describe('VolatilePackets bounds', () => {
  it('keeps the newest outgoing packets per client and refuses incoming packets beyond the bound', () => {
    const memory = new VolatilePackets();
    for (let i = 0; i < VOLATILE_LIMITS.outgoing + 5; i++) {
      memory.enqueue('c', { cmd: 'publish', topic: '$auth/c/token/response', payload: String(i), qos: 1, brokerId: 'b', brokerCounter: i + 1 });
    }
    const queue = memory.outgoing('c');
    expect(queue).toHaveLength(VOLATILE_LIMITS.outgoing);
    expect(queue[0]!.payload).toBe('5');
    for (let id = 1; id <= VOLATILE_LIMITS.incoming; id++) expect(memory.storeIncoming('c', id, { messageId: id })).toBe(true);
    expect(memory.storeIncoming('c', 999, { messageId: 999 })).toBe(false);
    // A resend of a held identifier is not a new packet.
    expect(memory.storeIncoming('c', 1, { messageId: 1 })).toBe(true);
    expect(memory.outgoing('other')).toEqual([]);
  });

  it('holds at most VOLATILE_LIMITS.totalBytes of payload for all clients together, and gives it back', () => {
    const memory = new VolatilePackets();
    const big = Buffer.alloc(Math.floor(VOLATILE_LIMITS.totalBytes * 0.6));
    expect(memory.storeIncoming('a', 1, { messageId: 1, payload: big })).toBe(true);
    expect(memory.storeIncoming('b@other', 1, { messageId: 1, payload: big })).toBe(false);
    expect(memory.enqueue('b@other', { cmd: 'publish', topic: '$auth/b/x', payload: big, qos: 1 })).toBe(false);
    expect(memory.outgoing('b@other')).toEqual([]);
    expect(memory.deleteIncoming('a', 1)).toBe(true);
    expect(memory.bytes).toBe(0);
    expect(memory.enqueue('b@other', { cmd: 'publish', topic: '$auth/b/x', payload: big, qos: 1, brokerId: 'k', brokerCounter: 1 })).toBe(true);
    expect(memory.update('b@other', { cmd: 'publish', brokerId: 'k', brokerCounter: 1, messageId: 5 })).toBe(true);
    expect(memory.clear('b@other', 5)?.payload).toBe(big);
    memory.putWill('c', { topic: '$auth/c/reauth', payload: 'will' });
    memory.putWill('c', { topic: '$auth/c/reauth', payload: 'again' });
    expect(memory.bytes).toBe(5);
    memory.deleteWill('c');
    expect(memory.bytes).toBe(0);
  });
});

describe('migration 12', () => {
  it('forgets packets on credential topics an older version stored, overwriting their bytes', async () => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-credsafe-'));
    const file = join(dir, 'latchkey.db');
    const token = secret('stored-by-an-older-version');
    const db = openDatabase(file);
    // What the plain SQLite persistence (all an older version had) wrote.
    const older = createSqlitePersistence(db);
    await older.setup({ id: 'old-broker' });
    const payload = Buffer.from(JSON.stringify({ request_id: 'r', access_token: token }));
    await older.incomingStorePacket({ id: 'dev' }, { cmd: 'publish', topic: '$auth/dev/reauth', payload, qos: 2, messageId: 3 });
    await older.outgoingEnqueueCombi([{ clientId: 'dev' }], { cmd: 'publish', topic: '$auth/dev/reauth', payload, qos: 1, brokerId: 'old-broker', brokerCounter: 1 });
    await older.putWill({ id: 'dev' }, { cmd: 'publish', topic: '$provision/dev/register', payload, qos: 1 });
    await older.storeRetained({ cmd: 'publish', topic: '$auth/dev/token/response', payload, qos: 1, retain: true });
    await older.outgoingEnqueueCombi([{ clientId: 'dev' }], { cmd: 'publish', topic: 'home/dev/setpoint', payload: Buffer.from('21'), qos: 1, brokerId: 'old-broker', brokerCounter: 2 });
    db.pragma('user_version = 11');
    db.close();
    expect(onDisk(token)).toBe(true);

    const upgraded = openDatabase(file);
    const count = (table: string) => (upgraded.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    expect(upgraded.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(12);
    expect(['aedes_incoming', 'aedes_wills', 'aedes_retained'].map(count)).toEqual([0, 0, 0]);
    // The ordinary queued message stays.
    expect(count('aedes_outgoing')).toBe(1);
    upgraded.close();
    expect(onDisk(token)).toBe(false);
  });

  it('leaves every database zeroing deleted rows in the pages it writes (secure_delete = FAST)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-credsafe-'));
    const file = join(dir, 'latchkey.db');
    const needle = secret('deleted-row');
    const db = openDatabase(file);
    expect(db.pragma('secure_delete', { simple: true })).toBe(2);
    const persistence = createSqlitePersistence(db);
    const packet = { cmd: 'publish', topic: 'home/dev/setpoint', payload: Buffer.from(needle), qos: 2, messageId: 4 };
    await persistence.incomingStorePacket({ id: 'dev' }, packet);
    db.pragma('wal_checkpoint(TRUNCATE)');
    expect(onDisk(needle)).toBe(true);
    await persistence.incomingDelPacket({ id: 'dev' }, packet);
    db.close();
    expect(onDisk(needle)).toBe(false);
  });
});
