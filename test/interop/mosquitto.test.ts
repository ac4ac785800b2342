/**
 * Interop: the stock Mosquitto clients and openssl against a real latchkey,
 * following docs/CERTIFICATES.md step by step. Skipped, visibly, when the
 * tools are missing outside CI (.ci/run installs mosquitto-clients, openssl
 * and curl; in CI a missing tool fails the file instead).
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnTimeout, startTestServer, tempDir, type TestServer } from '../helpers/latchkey.js';
import { eventually } from '../helpers/mqtt.js';
import { haveTools } from '../helpers/tools.js';

const HAVE_MOSQUITTO = haveTools('mosquitto_pub', 'mosquitto_sub', 'openssl');
const HAVE_CURL = haveTools('curl');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a tool to completion (never through a shell), with a hard timeout. */
function run(tool: string, args: string[], timeoutMs = 15_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(tool, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * mosquitto_sub waiting for one message. Its output is block-buffered on a
 * pipe, so readiness comes from the broker: the session holds the filter.
 * Start it only when the publisher is ready: its -W clock runs from its start,
 * and is a hang guard sized for a loaded machine, not a latency bound.
 */
function subscribeOnce(t: TestServer, clientId: string, filter: string, args: string[]): { ready: Promise<void>; message: Promise<Run> } {
  const message = run('mosquitto_sub', ['-C', '1', '-W', '30', '-t', filter, ...args], 35_000);
  const ready = eventually(
    () => t.server.broker.sessions().some((s) => s.client_id === clientId && s.subscriptions.includes(filter)),
    10_000,
    `${clientId} subscribed to ${filter}`,
  );
  return { ready, message };
}

describe.skipIf(!HAVE_MOSQUITTO)('interop with mosquitto_pub/mosquitto_sub and openssl (skipped when mosquitto-clients or openssl is not installed)', { timeout: spawnTimeout(8) }, () => {
  let t: TestServer;
  let work: string;
  let mqttsPort: string;
  let mqttPort: string;
  let cafile: string;

  beforeAll(async () => {
    t = await startTestServer();
    work = tempDir('latchkey-interop-');
    mqttsPort = String(t.server.ports.mqtts);
    mqttPort = String(t.server.ports.mqtt);
    cafile = join(work, 'ca.crt');
    const res = await fetch(`${t.baseUrl}/pki/ca.crt`);
    expect(res.status).toBe(200);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(cafile, await res.text());
  });
  afterAll(async () => {
    await t?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Common MQTTS flags: the CA from /pki/ca.crt, the device's certificate and key, client id = CN. */
  function tlsArgs(id: string, dir: string, key = join(dir, `${id}.key`)): string[] {
    return ['-h', '127.0.0.1', '-p', mqttsPort, '--cafile', cafile, '--cert', join(dir, `${id}.crt`), '--key', key, '-i', id];
  }

  it('openssl key + CSR, `latchkey cert issue --csr`, then mosquitto_sub and mosquitto_pub over MQTTS with the certificate', async () => {
    expect((await t.cli('client', 'create', 'sensor-1', '--scope', 'mqtt:publish:sensors/{client_id}/# mqtt:subscribe:sensors/{client_id}/#')).code).toBe(0);
    const dir = join(work, 'sensor-1');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    const key = join(dir, 'sensor-1.key');
    const csr = join(dir, 'sensor-1.csr');
    const req = await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-subj', '/CN=sensor-1', '-out', csr]);
    expect(req.code, req.stderr).toBe(0);
    const issued = await t.cli('cert', 'issue', 'sensor-1', '--csr', csr, '--out', dir, '--json');
    expect(issued.code, issued.stderr).toBe(0);
    expect(JSON.parse(issued.stdout)).toMatchObject({ cert: join(dir, 'sensor-1.crt'), key: null });
    // openssl agrees the certificate chains to the CA and is for client authentication.
    const verify = await run('openssl', ['verify', '-CAfile', cafile, '-purpose', 'sslclient', join(dir, 'sensor-1.crt')]);
    expect(verify.stdout).toContain(': OK');

    // A second connection with the same client id would take over the subscriber's session: publish as a second device.
    expect((await t.cli('client', 'create', 'sensor-2', '--scope', 'mqtt:publish:sensors/#')).code).toBe(0);
    const dir2 = join(work, 'sensor-2');
    expect((await t.cli('cert', 'issue', 'sensor-2', '--out', dir2)).code).toBe(0);
    const sub = subscribeOnce(t, 'sensor-1', 'sensors/sensor-1/#', tlsArgs('sensor-1', dir, key));
    await sub.ready;
    const pub = await run('mosquitto_pub', [...tlsArgs('sensor-2', dir2), '-t', 'sensors/sensor-1/temp', '-m', '21.5', '-q', '1']);
    expect(pub.code, pub.stderr).toBe(0);
    const got = await sub.message;
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout.split('\n')).toContain('21.5');
  });

  it('a revoked certificate is refused: mosquitto_pub reports "not authorised"', async () => {
    expect((await t.cli('client', 'create', 'sensor-3', '--scope', 'mqtt:publish:sensors/{client_id}/#')).code).toBe(0);
    const dir = join(work, 'sensor-3');
    const issued = JSON.parse((await t.cli('cert', 'issue', 'sensor-3', '--out', dir, '--json')).stdout) as { serial: string };
    const before = await run('mosquitto_pub', [...tlsArgs('sensor-3', dir), '-t', 'sensors/sensor-3/x', '-m', 'ok']);
    expect(before.code, before.stderr).toBe(0);
    const revoked = await t.cli('cert', 'revoke', issued.serial);
    expect(revoked.code, revoked.stderr).toBe(0);
    const after = await run('mosquitto_pub', [...tlsArgs('sensor-3', dir), '-t', 'sensors/sensor-3/x', '-m', 'no']);
    expect(after.code, `${after.stdout}${after.stderr}`).not.toBe(0);
    expect(after.stderr).toMatch(/not authori[sz]ed/i);
  });

  it("a client id other than the certificate's CN is refused (identifier rejected)", async () => {
    const dir = join(work, 'sensor-2');
    const res = await run('mosquitto_pub', [...tlsArgs('sensor-2', dir), '-i', 'sensor-1', '-t', 'sensors/sensor-1/x', '-m', 'no']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/identifier rejected/i);
  });

  it('plain MQTT with an access token from the token endpoint: username = client id, password = token', async () => {
    const created = JSON.parse((await t.cli('client', 'create', 'meter-1', '--scope', 'mqtt:publish:meters/{client_id}/# mqtt:subscribe:meters/{client_id}/#', '--json')).stdout) as {
      client_secret: string;
    };
    const { access_token } = await t.token('meter-1', created.client_secret);
    const pubCreated = JSON.parse((await t.cli('client', 'create', 'meter-2', '--scope', 'mqtt:publish:meters/#', '--json')).stdout) as { client_secret: string };
    const pubToken = (await t.token('meter-2', pubCreated.client_secret)).access_token;
    const sub = subscribeOnce(t, 'meter-1', 'meters/meter-1/#', ['-h', '127.0.0.1', '-p', mqttPort, '-i', 'meter-1', '-u', 'meter-1', '-P', access_token]);
    await sub.ready;
    const pub = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', mqttPort, '-i', 'meter-2', '-u', 'meter-2', '-P', pubToken, '-t', 'meters/meter-1/kwh', '-m', '42']);
    expect(pub.code, pub.stderr).toBe(0);
    const got = await sub.message;
    expect(got.stdout.split('\n')).toContain('42');
    // A wrong password is "bad user name or password".
    const bad = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', mqttPort, '-i', 'meter-2', '-u', 'meter-2', '-P', 'not-a-token', '-t', 'meters/x', '-m', '1']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/bad user name or password/i);
  });

  it.skipIf(!HAVE_CURL)('curl gets a certificate-bound token with tls_client_auth; mosquitto_pub uses it only with that certificate (skipped without curl)', async () => {
    expect((await t.cli('client', 'create', 'gate-1', '--scope', 'mqtt:publish:gates/{client_id}/#', '--auth-method', 'tls_client_auth')).code).toBe(0);
    const dir = join(work, 'gate-1');
    expect((await t.cli('cert', 'issue', 'gate-1', '--out', dir)).code).toBe(0);
    const curl = await run('curl', [
      '--silent', '--show-error', '--fail-with-body',
      '--cacert', cafile, '--cert', join(dir, 'gate-1.crt'), '--key', join(dir, 'gate-1.key'),
      '--resolve', `localhost:${t.server.ports.https}:127.0.0.1`,
      '-d', 'grant_type=client_credentials', '-d', 'client_id=gate-1',
      `https://localhost:${t.server.ports.https}/oauth/token`,
    ]);
    expect(curl.code, curl.stderr + curl.stdout).toBe(0);
    const token = (JSON.parse(curl.stdout) as { access_token: string }).access_token;
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { cnf?: Record<string, string> };
    expect(claims.cnf?.['x5t#S256']).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const plain = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', mqttPort, '-i', 'gate-1', '-u', 'gate-1', '-P', token, '-t', 'gates/gate-1/open', '-m', '1']);
    expect(plain.code).not.toBe(0);
    const withCert = await run('mosquitto_pub', [...tlsArgs('gate-1', dir), '-u', 'gate-1', '-P', token, '-t', 'gates/gate-1/open', '-m', '1']);
    expect(withCert.code, withCert.stderr).toBe(0);
    expect(readFileSync(cafile, 'utf8')).toContain('BEGIN CERTIFICATE');
  });
});
