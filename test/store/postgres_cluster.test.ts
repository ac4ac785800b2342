/**
 * latchkey on a PostgreSQL store (`--store postgres://…`): a server, the
 * CLI on another "machine" (no data directory of its own), and two nodes
 * sharing one database.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, spawnTimeout, startTestServer, type TestServer } from '../helpers/latchkey.js';
import { caPemOf, certificatesOf } from '../helpers/mtls.js';
import { closedWithin, connackCode, connect, connectDevice, eventually } from '../helpers/mqtt.js';
import { havePostgres, postgresDatabase, TEST_POSTGRES, type TestDatabase } from '../helpers/services.js';
import { tempDir } from '../helpers/cli.js';

const SCOPE = 'mqtt:publish:dev/{client_id}/# mqtt:subscribe:dev/{client_id}/#';

describe.skipIf(!havePostgres())('latchkey with --store postgres:// (skipped without PostgreSQL)', { timeout: spawnTimeout(6) }, () => {
  let db: TestDatabase | null = null;
  const servers: TestServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
    await db?.drop();
    db = null;
  });

  async function node(url: string): Promise<TestServer> {
    const lk = await startTestServer({ store: url });
    servers.push(lk);
    return lk;
  }

  it('the CLI with LATCHKEY_STORE creates a client the server knows, and `client disable` ends its session within 1 s', async () => {
    db = await postgresDatabase();
    const lk = await node(db.url);
    // The CLI runs where there is no latchkey database at all: the store is PostgreSQL.
    const elsewhere = { LATCHKEY_STORE: db.url, LATCHKEY_DATA_DIR: tempDir() };
    const created = await runCli(['client', 'create', 'pg-dev', '--scope', SCOPE, '--json'], elsewhere);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const secret = (JSON.parse(created.stdout) as { client_secret: string }).client_secret;
    const { access_token } = await lk.token('pg-dev', secret);
    const device = await connectDevice(lk.mqttUrl, 'pg-dev', access_token);
    expect(device.connected).toBe(true);

    const disabled = await runCli(['client', 'disable', 'pg-dev'], elsewhere);
    const committed = Date.now();
    expect(disabled.code, disabled.stderr).toBe(0);
    await closedWithin(device, 1_000, committed);
    expect(lk.server.store.clients.get('pg-dev')!.status).toBe('disabled');
  });

  it('a --store that is not a PostgreSQL URL is a usage error (exit 2), its password never shown', async () => {
    const result = await runCli(['client', 'list', '--store', 'mysql://admin:hunter2@db/lk']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--store .* must be a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(result.stderr).not.toContain('hunter2');
  });

  it('PostgreSQL refusing the password exits 6 and a missing database exits 8, for the CLI and for start, the password never shown', async () => {
    const wrongPassword = new URL(TEST_POSTGRES);
    wrongPassword.password = 'not-the-password';
    const missing = new URL(TEST_POSTGRES);
    missing.pathname = '/lk_no_such_database';
    for (const [url, code] of [[wrongPassword, 6], [missing, 8]] as const) {
      const listed = await runCli(['client', 'list', '--store', url.toString()]);
      expect([url.pathname, listed.code]).toEqual([url.pathname, code]);
      expect(listed.stderr).not.toContain('not-the-password');
      const dir = tempDir();
      const started = await runCli(['start', '--store', url.toString(), '--data-dir', join(dir, 'data'), '--certs-dir', join(dir, 'certs'), '--host', '127.0.0.1',
        '--http-port', '0', '--https-port', '0', '--mqtt-port', '0', '--mqtts-port', '0', '--ws-port', '0', '--wss-port', '0']);
      expect([url.pathname, started.code]).toEqual([url.pathname, code]);
    }
  });

  it('two nodes on one PostgreSQL publish the same JWKS and accept each other\'s tokens and certificates', async () => {
    db = await postgresDatabase();
    const [a, b] = await Promise.all([node(db.url), node(db.url)]);
    const jwks = async (lk: TestServer) => (await (await fetch(`${lk.baseUrl}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    const [jwksA, jwksB] = await Promise.all([jwks(a), jwks(b)]);
    expect(jwksA.keys.length).toBe(1);
    expect(jwksB).toEqual(jwksA);
    // One CA for the cluster, written into each node's certs directory.
    expect(caPemOf(b)).toBe(caPemOf(a));

    const secret = a.createClient('roamer', SCOPE);
    const { access_token } = await a.token('roamer', secret);
    const onB = await connectDevice(b.mqttUrl, 'roamer', access_token);
    expect(onB.connected).toBe(true);
    await onB.endAsync();

    const issued = await (await certificatesOf(a)).issue('roamer', { days: 1 }, 'test');
    const viaCert = await connect(b.mqttsUrl, {
      clientId: 'roamer',
      ca: caPemOf(b),
      cert: issued.certPem,
      key: issued.keyPem!,
      servername: 'localhost',
      rejectUnauthorized: true,
    });
    expect(viaCert.connected).toBe(true);
    await viaCert.endAsync();

    // Disabled through node A: node B refuses it once the change is heard (its cached row is dropped).
    a.server.registry.setStatus('roamer', 'disabled', 'test');
    await eventually(async () => (await connackCode(connectDevice(b.mqttUrl, 'roamer', access_token))) === 5, 3_000, 'node B refusing the disabled client');
  });

  it('a node whose certs directory holds another CA is refused (exit 5) and that CA is left as it was', async () => {
    db = await postgresDatabase();
    await node(db.url);
    // A single node's own deployment, started on the cluster's store without `migrate`.
    const own = tempDir();
    const certsDir = join(own, 'certs');
    expect((await runCli(['init', '--data-dir', join(own, 'data'), '--certs-dir', certsDir])).code).toBe(0);
    const ownCa = readFileSync(join(certsDir, 'ca.key'));
    const started = await runCli(['start', '--store', db.url, '--data-dir', join(own, 'data'), '--certs-dir', certsDir, '--host', '127.0.0.1',
      '--http-port', '0', '--https-port', '0', '--mqtt-port', '0', '--mqtts-port', '0', '--ws-port', '0', '--wss-port', '0']);
    expect(started.code).toBe(5);
    expect(started.stderr).toContain('latchkey migrate');
    expect(readFileSync(join(certsDir, 'ca.key'))).toEqual(ownCa);
  });

  it('/healthz answers 200 while PostgreSQL answers', async () => {
    db = await postgresDatabase();
    const lk = await node(db.url);
    const res = await fetch(`${lk.baseUrl}/healthz`);
    expect(res.status).toBe(200);
  });
});
