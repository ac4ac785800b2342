import { X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ensurePki } from '../../src/pki/ca.js';
import { serverNames } from '../../src/pki/server_names.js';
import { connect } from '../helpers/mqtt.js';
import { startTestServer, type TestServer, tempDir } from '../helpers/latchkey.js';

/** The subjectAltName entries of a PEM certificate, as `DNS:x` / `IP Address:y`, sorted. */
function sans(pem: string): string[] {
  return (new X509Certificate(pem).subjectAltName ?? '').split(', ').sort();
}

describe('serverNames: what the server certificate covers', () => {
  const lan = {
    lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' }],
    eth0: [
      { address: '192.168.1.10', netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal: false, cidr: '192.168.1.10/24' },
      { address: 'fe80::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:00:00:00:00:01', internal: false, cidr: 'fe80::1/64', scopeid: 2 },
      { address: '2001:db8::5', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:00:00:00:00:01', internal: false, cidr: '2001:db8::5/64', scopeid: 0 },
    ],
  } as unknown as ReturnType<typeof networkInterfaces>;

  test('default/host-name-and-lan-addresses: host name, its .local name, non-loopback non-link-local addresses, loopback always (last)', () => {
    expect(serverNames(undefined, 'Pi', lan)).toEqual({
      dns: ['pi', 'pi.local', 'localhost'],
      ip: ['192.168.1.10', '2001:db8::5', '127.0.0.1', '::1'],
    });
  });

  test("default/this-machine: os.hostname() and every non-internal address of os.networkInterfaces()", () => {
    const names = serverNames(undefined, hostname(), networkInterfaces());
    expect(names.dns).toContain(hostname().toLowerCase());
    for (const a of Object.values(networkInterfaces()).flat()) {
      if (a && !a.internal && !a.address.startsWith('fe80')) expect(names.ip).toContain(a.address);
    }
    expect(names.dns).toContain('localhost');
    expect(names.ip).toEqual(expect.arrayContaining(['127.0.0.1', '::1']));
  });

  test('explicit/replaces-defaults: --tls-names lists DNS names and IPs in the order given; loopback stays (last); deduplicated', () => {
    expect(serverNames(' hub.lan, 10.0.0.2,[2001:db8::7],HUB.lan,*.iot.lan ', 'pi', lan)).toEqual({
      dns: ['hub.lan', '*.iot.lan', 'localhost'],
      ip: ['10.0.0.2', '2001:db8::7', '127.0.0.1', '::1'],
    });
  });

  test.each([['under_score.lan'], ['a..b'], ['http://hub.lan'], ['-hub.lan'], ['hub lan']])('explicit/refused: %s', (bad) => {
    expect(() => serverNames(`ok.lan,${bad}`, 'pi', lan)).toThrow(expect.objectContaining({ code: 'invalid_tls_names' }));
  });
});

describe('ensurePki re-issues the server certificate when the names change, with the same CA', () => {
  const dir = tempDir();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('same names: no re-issue; new names: new certificate from the same CA; no names (CLI): kept', async () => {
    const a = { dns: ['hub.test', 'localhost'], ip: ['127.0.0.1', '::1'] };
    const first = await ensurePki(dir, null, a);
    expect(sans(first.serverCertPem)).toEqual(['DNS:hub.test', 'DNS:localhost', 'IP Address:0:0:0:0:0:0:0:1', 'IP Address:127.0.0.1'].sort());
    const again = await ensurePki(dir, null, { dns: ['localhost', 'hub.test'], ip: ['::1', '127.0.0.1'] });
    expect(again.created).toBe(false);
    expect(again.serverCertPem).toBe(first.serverCertPem);

    const b = { dns: ['hub.test', 'localhost', 'new.test'], ip: ['127.0.0.1', '192.0.2.7', '::1'] };
    const moved = await ensurePki(dir, null, b);
    expect(moved.serverCertPem).not.toBe(first.serverCertPem);
    expect(moved.serverKeyPem).not.toBe(first.serverKeyPem);
    expect(moved.ca.certPem).toBe(first.ca.certPem);
    expect(new X509Certificate(moved.serverCertPem).verify(new X509Certificate(first.ca.certPem).publicKey)).toBe(true);
    expect(sans(moved.serverCertPem)).toEqual(expect.arrayContaining(['DNS:new.test', 'IP Address:192.0.2.7']));

    const cli = await ensurePki(dir, null);
    expect(cli.serverCertPem).toBe(moved.serverCertPem);
  });
});

/** GET /healthz over HTTPS at `host` with SNI and hostname verification against `servername` (or the IP). */
function healthz(host: string, port: number, ca: string, servername?: string): Promise<number | string> {
  return new Promise((done) => {
    const req = request({ host, port, path: '/healthz', ca, ...(servername ? { servername } : {}) }, (res) => {
      res.resume();
      done(res.statusCode ?? 0);
    });
    req.on('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
    req.end();
  });
}

describe('a LAN name or address the certificate covers works over HTTPS and MQTTS', () => {
  let lk: TestServer;
  let ca: string;
  let secret: string;
  beforeAll(async () => {
    // 127.0.0.2 is loopback too: it stands in for the server's LAN address.
    lk = await startTestServer({ host: '127.0.0.2', tlsNames: 'latchkey.test,127.0.0.2' });
    ca = readFileSync(join(lk.certsDir, 'ca.crt'), 'utf8');
    secret = lk.createClient('lan-1', 'mqtt:publish:home/{client_id}/telemetry');
  });
  afterAll(() => lk.close());

  test('HTTPS by DNS name (SNI + hostname check) and by IP address; a name not covered fails the TLS check', async () => {
    expect(await healthz('127.0.0.2', lk.server.ports.https, ca, 'latchkey.test')).toBe(200);
    expect(await healthz('127.0.0.2', lk.server.ports.https, ca)).toBe(200);
    expect(await healthz('127.0.0.2', lk.server.ports.https, ca, 'elsewhere.test')).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  test('MQTTS by DNS name and by IP address, with a token from the HTTPS token endpoint', async () => {
    const base = `http://127.0.0.2:${lk.server.ports.http}`;
    const { clientCredentialsToken } = await import('../helpers/token.js');
    const { access_token } = await clientCredentialsToken(base, 'lan-1', secret);
    for (const servername of ['latchkey.test', undefined]) {
      const client = await connect(`mqtts://127.0.0.2:${lk.server.ports.mqtts}`, {
        clientId: 'lan-1',
        username: 'lan-1',
        password: access_token,
        ca,
        ...(servername ? { servername } : {}),
        rejectUnauthorized: true,
      });
      expect(client.connected).toBe(true);
      await client.endAsync();
    }
  });
});

describe('--tls-cert / --tls-key: the operator\'s own certificate', () => {
  const dir = tempDir();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const cert = join(dir, 'own.crt');
  const key = join(dir, 'own.key');
  beforeAll(() => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=own.test',
      '-addext', 'subjectAltName=DNS:own.test', '-days', '2', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  });

  test('serves HTTPS with it (trusted by its own CA, not latchkey\'s)', async () => {
    const lk = await startTestServer({ tlsCert: cert, tlsKey: key });
    try {
      expect(await healthz('127.0.0.1', lk.server.ports.https, readFileSync(cert, 'utf8'), 'own.test')).toBe(200);
      const latchkeyCa = readFileSync(join(lk.certsDir, 'ca.crt'), 'utf8');
      expect(await healthz('127.0.0.1', lk.server.ports.https, latchkeyCa, 'own.test')).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY/);
    } finally {
      await lk.close();
    }
  });

  test('refuses to start with a key that is not the certificate\'s, or with only one of the two', async () => {
    const other = join(dir, 'other.key');
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', other], { stdio: 'ignore' });
    await expect(startTestServer({ tlsCert: cert, tlsKey: other })).rejects.toMatchObject({ code: 'invalid_tls_certificate' });
    await expect(startTestServer({ tlsCert: cert })).rejects.toMatchObject({ code: 'invalid_tls_certificate' });
    writeFileSync(join(dir, 'junk.crt'), 'not a certificate');
    await expect(startTestServer({ tlsCert: join(dir, 'junk.crt'), tlsKey: key })).rejects.toMatchObject({ code: 'invalid_tls_certificate' });
  });
});

describe('latchkey init --tls-names (env LATCHKEY_TLS_NAMES)', () => {
  const dir = tempDir();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const dirs = ['--data-dir', join(dir, 'data'), '--certs-dir', join(dir, 'certs')];
  const files = () => ({ server: readFileSync(join(dir, 'certs', 'server.crt'), 'utf8'), ca: readFileSync(join(dir, 'certs', 'ca.crt'), 'utf8') });

  test('covers the names asked for; same names keep the certificate; new names re-issue it from the same CA', async () => {
    const { runCli } = await import('../helpers/cli.js');
    expect((await runCli(['init', '--tls-names', 'hub.test,10.9.8.7', ...dirs])).code).toBe(0);
    const first = files();
    expect(sans(first.server)).toEqual(['DNS:hub.test', 'DNS:localhost', 'IP Address:0:0:0:0:0:0:0:1', 'IP Address:10.9.8.7', 'IP Address:127.0.0.1']);
    expect((await runCli(['init', ...dirs], { LATCHKEY_TLS_NAMES: '10.9.8.7, hub.test' })).code).toBe(0);
    expect(files()).toEqual(first);
    // The flag wins over the environment.
    expect((await runCli(['init', '--tls-names', 'moved.test', ...dirs], { LATCHKEY_TLS_NAMES: 'hub.test' })).code).toBe(0);
    const moved = files();
    expect(moved.ca).toBe(first.ca);
    expect(moved.server).not.toBe(first.server);
    expect(sans(moved.server)).toContain('DNS:moved.test');
    expect(sans(moved.server)).not.toContain('DNS:hub.test');
    const bad = await runCli(['init', '--tls-names', 'not a name', ...dirs]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: --tls-names: "not a name"/);
    // Five CLI processes, each making keys: generous on a loaded machine.
  }, 90_000);
});
