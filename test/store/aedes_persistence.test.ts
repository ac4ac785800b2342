import { Aedes } from 'aedes';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import assert from 'node:assert';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  AEDES_PERSISTENCE_SCHEMA,
  type AedesPersistence,
  createSqlitePersistence,
} from '../../src/store/aedes_persistence.js';
import { createCredentialSafePersistence } from '../../src/store/credential_safe_persistence.js';

const require = createRequire(import.meta.url);

/** The node:test context subset the aedes-persistence abstract suite uses. */
interface AbstractTestContext {
  plan(count: number): void;
  diagnostic(message: string): void;
  assert: Record<string, (...args: unknown[]) => void>;
}
type AbstractSuite = (opts: {
  test: (name: string, fn: (t: AbstractTestContext) => Promise<void>) => void;
  persistence: () => AedesPersistence;
  testAsync: boolean;
}) => void;

/** Opens a database the way latchkey does (WAL, synchronous=NORMAL) with our tables. */
function openDb(file = ':memory:'): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(AEDES_PERSISTENCE_SCHEMA);
  return db;
}

/**
 * Runs one abstract test under vitest with a node:test-like context: the
 * assertions are node:assert's (as node:test's `t.assert` are) and a declared
 * plan must be met exactly, as node:test enforces.
 */
async function runAbstractTest(fn: (t: AbstractTestContext) => Promise<void>): Promise<void> {
  let planned: number | undefined;
  let asserted = 0;
  const methods = ['ok', 'equal', 'notEqual', 'deepEqual', 'notDeepEqual', 'strictEqual', 'deepStrictEqual', 'fail'];
  const counted: Record<string, (...args: unknown[]) => void> = {};
  for (const name of methods) {
    const method = (assert as unknown as Record<string, (...args: unknown[]) => void>)[name]!;
    counted[name] = (...args) => {
      asserted++;
      method(...args);
    };
  }
  await fn({ plan: (count) => void (planned = count), diagnostic: () => {}, assert: counted });
  if (planned !== undefined) expect(asserted, 'assertions made against t.plan()').toBe(planned);
}

// The broker runs the credential-safe one; it must stay a complete persistence for every other topic.
describe.each([
  ['SqlitePersistence', createSqlitePersistence],
  ['CredentialSafePersistence', (db: Database.Database) => createCredentialSafePersistence(createSqlitePersistence(db))],
])('aedes-persistence abstract suite: %s', (_name, create) => {
  const dbs: Database.Database[] = [];
  afterAll(() => {
    for (const db of dbs) db.close();
  });

  const abstract = require('aedes-persistence/abstract.js') as AbstractSuite;
  abstract({
    test: (name, fn) => it(name, () => runAbstractTest(fn)),
    // Each abstract test expects an empty store: a fresh in-memory database per instance.
    persistence: () => {
      const db = openDb();
      dbs.push(db);
      return create(db);
    },
    // Aedes 1.2 drives the promise interface directly, so test that one.
    testAsync: true,
  });
});

/** Collects a Readable of packets into an array. */
async function drain<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

describe('SqlitePersistence across a restart', () => {
  let dir: string;
  const open: Database.Database[] = [];
  afterEach(() => {
    for (const db of open.splice(0)) db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * The first connection is left open, as a killed process would leave it (no
   * checkpoint, no clean close); the second reads the same file from scratch.
   */
  function twoLives(): [Database.Database, Database.Database] {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-aedes-'));
    const file = join(dir, 'latchkey.db');
    const first = openDb(file);
    const second = openDb(file);
    open.push(first, second);
    return [first, second];
  }

  it('keeps retained messages, sessions, queues, QoS 2 state and wills', async () => {
    const [before, after] = twoLives();
    const broker = { id: 'broker-a' };
    const client = { id: 'dev-1' };
    const p1 = createSqlitePersistence(before);
    await p1.setup(broker);
    await p1.storeRetained({ cmd: 'publish', topic: 'home/t1/state', payload: Buffer.from([0, 1, 2]), qos: 1, retain: true });
    await p1.addSubscriptions(client, [
      { topic: 'home/+/cmd', qos: 1 },
      { topic: 'home/t1/log', qos: 0 },
    ]);
    const queued = { cmd: 'publish', topic: 'home/t1/cmd', payload: Buffer.from('on'), qos: 1, retain: false, brokerId: 'broker-a', brokerCounter: 7 };
    await p1.outgoingEnqueueCombi([{ clientId: client.id }], queued);
    await p1.incomingStorePacket(client, { cmd: 'publish', topic: 'up', payload: Buffer.from('q2'), qos: 2, messageId: 9 });
    await p1.putWill(client, { cmd: 'publish', topic: 'home/t1/status', payload: Buffer.from('gone'), qos: 1, retain: true });

    const p2 = createSqlitePersistence(after);
    await p2.setup({ id: 'broker-b' });
    const retained = await drain(p2.createRetainedStreamCombi(['home/#']));
    expect(retained.map((p) => [p.topic, p.payload])).toEqual([['home/t1/state', Buffer.from([0, 1, 2])]]);
    expect(await p2.subscriptionsByClient(client)).toEqual([
      { topic: 'home/+/cmd', qos: 1 },
      { topic: 'home/t1/log', qos: 0 },
    ]);
    // The in-memory index is rebuilt from SQLite at setup.
    expect(await p2.subscriptionsByTopic('home/t9/cmd')).toEqual([{ clientId: 'dev-1', topic: 'home/+/cmd', qos: 1 }]);
    const outgoing = await drain(p2.outgoingStream(client));
    expect(outgoing).toHaveLength(1);
    expect(outgoing[0]).toMatchObject({ topic: 'home/t1/cmd', payload: Buffer.from('on'), qos: 1, brokerCounter: 7 });
    expect((await p2.incomingGetPacket(client, { messageId: 9 })).payload).toEqual(Buffer.from('q2'));
    // broker-a is not alive after the restart, so its client's will is orphaned and must be published.
    const wills = await drain(p2.streamWill({ 'broker-b': Date.now() }));
    expect(wills).toMatchObject([{ topic: 'home/t1/status', clientId: 'dev-1', brokerId: 'broker-a', payload: Buffer.from('gone') }]);
  });

  it('matches subscriptions by topic per MQTT wildcard rules', async () => {
    const [db] = twoLives();
    const p = createSqlitePersistence(db);
    await p.setup({ id: 'b' });
    await p.addSubscriptions({ id: 'c' }, [
      { topic: '#', qos: 1 },
      { topic: 'a/+', qos: 1 },
      { topic: 'a/#', qos: 2 },
      { topic: '$SYS/#', qos: 1 },
    ]);
    const cases: [string, string[]][] = [
      ['a', ['#', 'a/#']],
      ['a/b', ['#', 'a/#', 'a/+']],
      ['a/b/c', ['#', 'a/#']],
      ['a/', ['#', 'a/#', 'a/+']],
      // [MQTT-4.7.2-1] wildcard-first filters never match '$' topics.
      ['$SYS/x', ['$SYS/#']],
    ];
    for (const [topic, filters] of cases) {
      const matched = (await p.subscriptionsByTopic(topic)).map((s) => s.topic).sort();
      expect(matched, topic).toEqual([...filters].sort());
    }
  });

  it('reads a long outgoing queue in pages, in order', async () => {
    const [db] = twoLives();
    const p = createSqlitePersistence(db, { pageSize: 3 });
    await p.setup({ id: 'b' });
    for (let i = 1; i <= 10; i++) {
      await p.outgoingEnqueue({ clientId: 'c' }, { cmd: 'publish', topic: 't', payload: Buffer.from([i]), qos: 1, brokerId: 'b', brokerCounter: i });
    }
    const counters = (await drain(p.outgoingStream({ id: 'c' }))).map((packet) => packet.brokerCounter);
    expect(counters).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});

describe('Aedes broker on SqlitePersistence', () => {
  let dir: string;
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  async function startBroker(db: Database.Database): Promise<{ url: string; stop: () => Promise<void> }> {
    const broker = await Aedes.createBroker({ persistence: createSqlitePersistence(db) });
    const server: Server = createServer(broker.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const stop = async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    };
    return { url: `mqtt://127.0.0.1:${port}`, stop };
  }

  it('delivers the retained message and the queued QoS 1 message after a restart', async () => {
    dir = mkdtempSync(join(tmpdir(), 'latchkey-aedes-'));
    const file = join(dir, 'latchkey.db');

    // First life: a persistent subscriber goes offline, then QoS 1 publishes are acknowledged.
    const db1 = openDb(file);
    cleanups.push(() => {
      db1.close();
    });
    const first = await startBroker(db1);
    const subscriber = await mqtt.connectAsync(first.url, { clientId: 'sub-1', clean: false, reconnectPeriod: 0 });
    await subscriber.subscribeAsync('lk/queued', { qos: 1 });
    await subscriber.endAsync();
    const publisher = await mqtt.connectAsync(first.url, { clientId: 'pub-1', reconnectPeriod: 0 });
    await publisher.publishAsync('lk/retained', 'kept', { qos: 1, retain: true });
    await publisher.publishAsync('lk/queued', 'waiting', { qos: 1 });
    await publisher.endAsync();
    await first.stop();

    // Second life: a new connection to the same file, as after a restart. db1 stays open (no checkpoint).
    const db2 = openDb(file);
    cleanups.push(() => {
      db2.close();
    });
    const second = await startBroker(db2);
    cleanups.push(second.stop);

    const resumed = mqtt.connect(second.url, { clientId: 'sub-1', clean: false, reconnectPeriod: 0 });
    cleanups.push(() => resumed.endAsync());
    const queuedMessage = new Promise<{ topic: string; payload: string; qos: number }>((resolve) =>
      resumed.once('message', (topic, payload, packet) => resolve({ topic, payload: payload.toString(), qos: packet.qos })),
    );
    const connack = await new Promise<{ sessionPresent: boolean }>((resolve) => resumed.once('connect', resolve));
    expect(connack.sessionPresent).toBe(true);
    expect(await queuedMessage).toEqual({ topic: 'lk/queued', payload: 'waiting', qos: 1 });

    const late = await mqtt.connectAsync(second.url, { clientId: 'late-1', reconnectPeriod: 0 });
    cleanups.push(() => late.endAsync());
    const retainedMessage = new Promise<{ topic: string; payload: string; retain: boolean }>((resolve) =>
      late.once('message', (topic, payload, packet) => resolve({ topic, payload: payload.toString(), retain: packet.retain })),
    );
    await late.subscribeAsync('lk/#', { qos: 1 });
    expect(await retainedMessage).toEqual({ topic: 'lk/retained', payload: 'kept', retain: true });
  });
});
