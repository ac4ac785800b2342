/**
 * `latchkey migrate --to postgres://…`: a SQLite deployment built with the
 * CLI and a running node moves into PostgreSQL, and a node started on the
 * store (new data and certs directories) serves every existing device.
 */
import Database from 'better-sqlite3';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { COPIED_TABLES } from '../../src/store/postgres/migration_plan.js';
import { type ChildServer, startChildServer } from '../helpers/child_server.js';
import { assertionForm, clientAssertion } from '../helpers/mtls.js';
import { collect, connect, connectDevice, eventually, refusalCode } from '../helpers/mqtt.js';
import { havePostgres, postgresDatabase, type TestDatabase } from '../helpers/services.js';
import { clientCredentialsToken } from '../helpers/token.js';
import { type CliDirs, cliDirs, expectOneError, parseLines, parseOneObject, runCli, spawnTimeout, tempDir } from './fixture.js';

const SCOPE = 'mqtt:publish:dev/{client_id}/# mqtt:subscribe:dev/{client_id}/#';
const ISSUER = 'http://latchkey.test';

interface MigrateJson {
  to: string;
  tables: Record<string, { source: number; copied: number }>;
  left_behind: { retained_messages: number; persistent_sessions: number; queued_messages: number };
  verified: boolean;
}

async function query<T>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, values)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Row counts of every table in the public schema: proof that a refused migrate wrote nothing. */
async function targetSnapshot(url: string): Promise<Record<string, number>> {
  const tables = await query<{ table_name: string }>(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name");
  const counts: Record<string, number> = {};
  for (const { table_name } of tables) counts[table_name] = Number((await query<{ n: string }>(url, `SELECT COUNT(*) AS n FROM ${table_name}`))[0]!.n);
  return counts;
}

async function stop(server: ChildServer): Promise<void> {
  server.child.kill('SIGTERM');
  expect((await server.exited).code).toBe(0);
}

describe.skipIf(!havePostgres())('latchkey migrate --to postgres:// (skipped without PostgreSQL)', { timeout: spawnTimeout(30) }, () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function deployment(): CliDirs {
    const dirs = cliDirs();
    cleanups.push(() => dirs.remove());
    return dirs;
  }

  async function database(): Promise<TestDatabase> {
    const db = await postgresDatabase();
    cleanups.push(() => db.drop());
    return db;
  }

  async function node(dataDir: string, certsDir: string, extra: string[] = []): Promise<ChildServer> {
    const server = await startChildServer(dataDir, certsDir, extra);
    cleanups.push(async () => {
      if (server.child.exitCode === null && server.child.signalCode === null) await server.crash();
    });
    return server;
  }

  it('every device keeps working on a node started on the store: secret, certificate, private_key_jwt, static password, PAT, API key, an old token; a revoked one stays refused; audit moves', async () => {
    const sqlite = deployment();
    await sqlite.json('init');
    const running = await node(sqlite.dataDir, sqlite.certsDir);
    const http = `http://127.0.0.1:${running.ports.http}`;

    // The deployment, as an operator builds it.
    const sensorSecret = (await sqlite.json('client', 'create', 'sensor', '--scope', SCOPE)).client_secret as string;
    await sqlite.json('client', 'create', 'camera', '--scope', SCOPE, '--auth-method', 'tls_client_auth');
    const certOut = join(sqlite.root, 'camera');
    await sqlite.json('cert', 'issue', 'camera', '--out', certOut);
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwkFile = join(sqlite.root, 'signer.jwk');
    writeFileSync(jwkFile, JSON.stringify({ ...publicKey.export({ format: 'jwk' }), kid: 'k1' }));
    await sqlite.json('client', 'create', 'signer', '--scope', SCOPE, '--auth-method', 'private_key_jwt', '--jwk', jwkFile);
    const stockPassword = (await sqlite.json('client', 'create', 'stock', '--scope', SCOPE, '--static-password')).mqtt_password as string;
    await sqlite.json('user', 'create', 'alice');
    const pat = (await sqlite.json('pat', 'create', 'alice', '--name', 'laptop', '--scope', 'admin:read')).token as string;
    const apiKey = (await sqlite.json('apikey', 'create', 'dashboard', '--scope', 'admin:read mqtt:subscribe:dev/#')).key as string;

    // Tokens the SQLite node issued: one stays good, one is revoked.
    const before = (await clientCredentialsToken(http, 'sensor', sensorSecret)).access_token;
    const revoked = (await clientCredentialsToken(http, 'sensor', sensorSecret)).access_token;
    await sqlite.json('token', 'revoke', decodeJwt(revoked).jti!);
    // A retained message: MQTT state, which stays behind (docs/CLUSTER.md).
    const publisher = await connectDevice(`mqtt://127.0.0.1:${running.ports.mqtt}`, 'sensor', before);
    await publisher.publishAsync('dev/sensor/state', 'on', { retain: true, qos: 1 });
    await publisher.endAsync();

    const target = await database();
    // The node still runs: nothing it changes after the copy may be lost, so migrate refuses.
    const whileRunning = await sqlite.run('migrate', '--to', target.url);
    expectOneError(whileRunning, 4);
    expect(whileRunning.stderr).toMatch(/still runs on this database .*stop it first/);
    await stop(running);

    const sourceCounts = countRows(sqlite.dataDir);
    const migrated = await sqlite.run('migrate', '--to', target.url, '--json');
    expect(migrated.stderr).toBe('');
    expect(migrated.code).toBe(0);
    const report = parseOneObject(migrated.stdout) as unknown as MigrateJson;
    expect(report.verified).toBe(true);
    expect(report.to).toBe(target.url.replace(':latchkey@', ':***@'));
    expect(migrated.stdout).not.toContain(':latchkey@');
    expect(Object.keys(report.tables)).toEqual([...COPIED_TABLES]);
    for (const [table, n] of Object.entries(sourceCounts)) expect(report.tables[table], table).toEqual({ source: n, copied: n });
    expect(report.tables.issued_tokens!.source).toBe(2);
    expect(report.tables.revoked_tokens!.source).toBe(1);
    expect(report.tables.clients!.source).toBe(4);
    expect(report.tables.audit_events!.source).toBeGreaterThan(10);
    expect(report.left_behind.retained_messages).toBe(1);

    // A node on the store, with its own new directories: the CA must come from the store.
    const pgData = tempDir('latchkey-pg-data-');
    const pgCerts = tempDir('latchkey-pg-certs-');
    const cluster = await node(pgData, pgCerts, ['--store', target.url]);
    const pgHttp = `http://127.0.0.1:${cluster.ports.http}`;
    const pgMqtt = `mqtt://127.0.0.1:${cluster.ports.mqtt}`;
    expect(readFileSync(join(pgCerts, 'ca.crt'), 'utf8')).toBe(readFileSync(join(sqlite.certsDir, 'ca.crt'), 'utf8'));

    // The secret client: a new token, and MQTT.
    const fresh = (await clientCredentialsToken(pgHttp, 'sensor', sensorSecret)).access_token;
    await (await connectDevice(pgMqtt, 'sensor', fresh)).endAsync();
    // The token issued by the SQLite node before the move (the signing keys moved).
    await (await connectDevice(pgMqtt, 'sensor', before)).endAsync();
    // The revoked token stays refused: 5, not authorized.
    expect(await refusalCode(connectDevice(pgMqtt, 'sensor', revoked))).toBe(5);

    // The certificate device, with its existing key and certificate, over MQTTS.
    const camera = await connect(`mqtts://127.0.0.1:${cluster.ports.mqtts}`, {
      clientId: 'camera',
      ca: readFileSync(join(sqlite.certsDir, 'ca.crt')),
      cert: readFileSync(join(certOut, 'camera.crt')),
      key: readFileSync(join(certOut, 'camera.key')),
      servername: 'localhost',
      rejectUnauthorized: true,
    });
    expect(camera.connected).toBe(true);
    await camera.endAsync();

    // The private_key_jwt client, by its registered key.
    const assertion = await clientAssertion(privateKey, 'signer', ISSUER);
    const jwtAnswer = await fetch(`${pgHttp}/oauth/token`, { method: 'POST', body: new URLSearchParams(assertionForm(assertion)) });
    expect(jwtAnswer.status).toBe(200);

    // The stock device's static password.
    await (await connect(pgMqtt, { clientId: 'stock', username: 'stock', password: stockPassword })).endAsync();

    // The PAT and the API key on the admin API; the API key on MQTT too.
    for (const bearer of [pat, apiKey]) {
      const clients = await fetch(`${pgHttp}/admin/clients`, { headers: { authorization: `Bearer ${bearer}` } });
      expect(clients.status).toBe(200);
    }
    await (await connect(pgMqtt, { clientId: 'dashboard', username: 'dashboard', password: apiKey })).endAsync();

    // Audit history is there, with the move itself recorded.
    const audit = await runCli(['audit', '--json', '--limit', '1000', '--store', target.url]);
    expect(audit.code, audit.stderr).toBe(0);
    const events = parseLines(audit.stdout).map((e) => e.event);
    expect(events).toContain('client.created');
    expect(events).toContain('certificate.issued');
    expect(events).toContain('store.migrated');

    // Sequences continue after the copied ids: new secrets and audit rows get fresh ids.
    const created = await runCli(['client', 'create', 'after-move', '--scope', SCOPE, '--json', '--store', target.url]);
    expect(created.code, created.stderr).toBe(0);
    const [moved] = await query<{ id: string }>(target.url, "SELECT id FROM audit_events WHERE event = 'store.migrated'");
    await eventually(async () => (await query(target.url, "SELECT 1 FROM audit_events WHERE event = 'client.created' AND principal = 'after-move' AND id > $1", [moved!.id])).length === 1, 5_000, 'the new audit row after the copied ones');
  });

  it('sealed keys stay sealed: the signing keys and ca.key arrive as stored, and a node with the passphrase uses them from the old directories (retained messages too, without --cluster); a --certs-dir of another CA is refused (2)', async () => {
    const sealed = { LATCHKEY_KEY_PASSPHRASE: 'correct horse battery staple' };
    const dirs = deployment();
    const cli = (...args: string[]) => runCli([...args, '--data-dir', dirs.dataDir, '--certs-dir', dirs.certsDir], sealed);
    expect((await cli('init')).code).toBe(0);
    const secret = (parseOneObject((await cli('client', 'create', 'vault-dev', '--scope', SCOPE, '--json')).stdout).client_secret as string);
    expect((await cli('cert', 'issue', 'vault-dev', '--out', join(dirs.root, 'out'))).code).toBe(0);
    // A retained message in the SQLite node's MQTT state.
    const single = await startChildServer(dirs.dataDir, dirs.certsDir, [], sealed);
    cleanups.push(() => single.crash());
    const early = (await clientCredentialsToken(`http://127.0.0.1:${single.ports.http}`, 'vault-dev', secret)).access_token;
    const publisher = await connectDevice(`mqtt://127.0.0.1:${single.ports.mqtt}`, 'vault-dev', early);
    await publisher.publishAsync('dev/vault-dev/state', 'locked', { retain: true, qos: 1 });
    await publisher.endAsync();
    await stop(single);
    const target = await database();

    // The CA of another deployment signed none of this one's certificates.
    const other = deployment();
    await other.json('init');
    const foreign = await runCli(['migrate', '--to', target.url, '--data-dir', dirs.dataDir, '--certs-dir', other.certsDir]);
    expectOneError(foreign, 2);
    expect(foreign.stderr).toMatch(/signed none of the deployment's device certificates/);

    // No passphrase needed to copy: nothing is unsealed.
    const migrated = await dirs.run('migrate', '--to', target.url);
    expect(migrated.code, migrated.stderr).toBe(0);
    const caKey = readFileSync(join(dirs.certsDir, 'ca.key'), 'utf8');
    expect(caKey).toContain('latchkey-sealed-v1');
    expect((await query<{ key_pem: string }>(target.url, 'SELECT key_pem FROM cluster_ca'))[0]!.key_pem).toBe(caKey);
    const db = new Database(join(dirs.dataDir, 'latchkey.db'), { readonly: true });
    const keys = db.prepare('SELECT kid, private_jwk FROM signing_keys ORDER BY kid').all();
    db.close();
    expect(JSON.stringify(keys)).toContain('latchkey-sealed-v1');
    expect(await query(target.url, 'SELECT kid, private_jwk FROM signing_keys ORDER BY kid')).toEqual(keys);

    // This time the node keeps the deployment's own directories: the store's CA is the one already
    // there, and without --cluster its MQTT state (the retained message) is still in latchkey.db.
    const cluster = await startChildServer(dirs.dataDir, dirs.certsDir, ['--store', target.url], sealed);
    cleanups.push(() => cluster.crash());
    expect(readFileSync(join(dirs.certsDir, 'ca.key'), 'utf8')).toBe(caKey);
    const { access_token } = await clientCredentialsToken(`http://127.0.0.1:${cluster.ports.http}`, 'vault-dev', secret);
    const subscriber = await connectDevice(`mqtt://127.0.0.1:${cluster.ports.mqtt}`, 'vault-dev', access_token);
    const seen = collect(subscriber);
    await subscriber.subscribeAsync('dev/vault-dev/state', { qos: 1 });
    await eventually(() => seen.some((m) => m.topic === 'dev/vault-dev/state' && m.payload === 'locked' && m.retain), 5_000, 'the retained message');
    await subscriber.endAsync();
  });

  it('refuses clearly: no database (8), not a postgres:// URL (2), PostgreSQL not answering (7), --server (2), a target that holds a deployment (4, nothing written)', async () => {
    const empty = cliDirs({ database: false });
    cleanups.push(() => empty.remove());
    const target = await database();

    const missing = await empty.run('migrate', '--to', target.url);
    expectOneError(missing, 8);
    expect(missing.stderr).toMatch(/no latchkey database at/);

    const badUrl = await empty.run('migrate', '--to', 'mysql://root:hunter2@db/lk');
    expectOneError(badUrl, 2);
    expect(badUrl.stderr).toMatch(/--to .* must be a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(badUrl.stderr).not.toContain('hunter2');

    const first = deployment();
    await first.json('init');
    await first.json('client', 'create', 'first-dev', '--scope', SCOPE);

    // A port nothing listens on (port 1 needs root to bind).
    const unreachable = await first.run('migrate', '--to', 'postgres://latchkey:hunter2@127.0.0.1:1/lk');
    expectOneError(unreachable, 7);
    expect(unreachable.stderr).not.toContain('hunter2');

    const remote = await first.run('migrate', '--to', target.url, '--server', 'http://127.0.0.1:1', '--token', 'x');
    expectOneError(remote, 2);

    expect((await first.run('migrate', '--to', target.url)).code).toBe(0);
    const holding = await targetSnapshot(target.url);

    const second = deployment();
    await second.json('init');
    await second.json('client', 'create', 'second-dev', '--scope', SCOPE);
    const conflict = await second.run('migrate', '--to', target.url);
    expectOneError(conflict, 4);
    expect(conflict.stderr).toMatch(/already holds a latchkey deployment .*nothing was written/);
    expect(await targetSnapshot(target.url)).toEqual(holding);
    expect(await query(target.url, "SELECT 1 FROM clients WHERE id = 'second-dev'")).toEqual([]);
  });
});

/** Rows per copied table in the SQLite database, read directly. */
function countRows(dataDir: string): Record<string, number> {
  const db = new Database(join(dataDir, 'latchkey.db'), { readonly: true });
  try {
    return Object.fromEntries(COPIED_TABLES.map((t) => [t, db.prepare(`SELECT COUNT(*) FROM ${t}`).pluck().get() as number]));
  } finally {
    db.close();
  }
}
