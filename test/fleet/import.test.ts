/**
 * Bulk provisioning: `latchkey client import` and `POST /admin/clients:batch`,
 * all or nothing, secrets only in a 0600 file, certificates on request.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { cliDirs, type CliDirs, expectOneError, parseOneObject } from '../cli/fixture.js';
import { startTestServer, type TestServer } from '../helpers/latchkey.js';

const SCOPE = 'mqtt:publish:fleet/{client_id}/telemetry mqtt:subscribe:fleet/{client_id}/cmd';

function csv(count: number, row: (i: number) => string = (i) => `dev-${String(i).padStart(4, '0')},${SCOPE},10m,`): string {
  return ['client_id,scope,token_ttl,auth_method', ...Array.from({ length: count }, (_, i) => row(i))].join('\n') + '\n';
}

describe('latchkey client import', () => {
  let dirs: CliDirs;
  beforeEach(() => {
    dirs = cliDirs();
  });
  afterEach(() => dirs.remove());

  const file = (name: string, text: string) => {
    const path = join(dirs.root, name);
    writeFileSync(path, text);
    return path;
  };

  test('1,000 rows in one go: every client created, secrets only in a new 0600 file, a report per row', async () => {
    const input = file('fleet.csv', csv(1000));
    const secrets = join(dirs.root, 'secrets.json');
    const started = Date.now();
    const result = await dirs.run('client', 'import', input, '--secrets-out', secrets, '--json');
    const elapsed = Date.now() - started;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = parseOneObject(result.stdout);
    expect(out.created).toBe(1000);
    const rows = out.clients as { row: number; line: number; client_id: string }[];
    expect(rows[998]).toMatchObject({ row: 999, line: 1000, client_id: 'dev-0998', auth_method: 'client_secret_basic' });
    expect(statSync(secrets).mode & 0o777).toBe(0o600);
    const written = JSON.parse(readFileSync(secrets, 'utf8')) as { clients: { client_id: string; client_secret: string }[] };
    expect(written.clients).toHaveLength(1000);
    expect(written.clients[0]!.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // No secret on the terminal.
    expect(written.clients.some((c) => result.stdout.includes(c.client_secret))).toBe(false);
    expect(rows.every((r) => !('client_secret' in r))).toBe(true);
    const list = await dirs.json('client', 'list');
    expect((list.clients as unknown[]).length).toBe(1000);
    expect((list.clients as { token_ttl: number }[])[0]!.token_ttl).toBe(600);
    // A generous guard for a loaded machine; README gives the measured figure.
    expect(elapsed).toBeLessThan(30_000);
    console.info(`client import: 1000 rows in ${elapsed} ms (CLI process included)`);
  });

  test('a bad row at position 999 refuses the whole file: nothing created, no secrets file, the line named', async () => {
    const input = file('bad.csv', csv(1000, (i) => (i === 998 ? `dev-0998,mqtt:publish:a/#/b,,` : `dev-${String(i).padStart(4, '0')},${SCOPE},,`)));
    const secrets = join(dirs.root, 'secrets.json');
    await dirs.json('client', 'list');
    const before = dirs.snapshot();
    const result = await dirs.run('client', 'import', input, '--secrets-out', secrets);
    expectOneError(result, 2);
    expect(result.stderr).toMatch(/^error: import refused, nothing created: 1 of 1000 rows invalid: line 1000 \(dev-0998\): /);
    expect(existsSync(secrets)).toBe(false);
    expect(dirs.snapshot()).toBe(before);
  });

  test('every bad row is reported with its line: duplicates within the file, ids already taken, bad fields', async () => {
    await dirs.json('client', 'create', 'taken-1', '--scope', SCOPE);
    const input = file(
      'mixed.csv',
      ['client_id,scope,token_ttl,auth_method', `a-1,${SCOPE},,`, `a-2,${SCOPE},soon,`, `a-1,${SCOPE},,`, `taken-1,${SCOPE},,`, `a-3,${SCOPE},,private_key_jwt`, `bad id,${SCOPE},,`].join('\n'),
    );
    const before = dirs.snapshot();
    const result = await dirs.run('client', 'import', input, '--secrets-out', join(dirs.root, 's.json'));
    expectOneError(result, 2);
    const message = result.stderr;
    expect(message).toContain('5 of 6 rows invalid');
    expect(message).toContain('line 3 (a-2): ');
    expect(message).toContain('line 4 (a-1): duplicate client_id "a-1" (also line 2)');
    expect(message).toContain('line 5 (taken-1): "taken-1" already exists');
    expect(message).toContain('line 6 (a-3): auth_method must be one of');
    expect(message).toContain('line 7 (bad id): invalid client id');
    expect(dirs.snapshot()).toBe(before);
  });

  test('the secrets file is never overwritten, and is required when secrets are made', async () => {
    const input = file('few.csv', csv(3));
    const secrets = file('exists.json', 'keep me');
    await dirs.json('client', 'list');
    const before = dirs.snapshot();
    expectOneError(await dirs.run('client', 'import', input, '--secrets-out', secrets), 4);
    expect(readFileSync(secrets, 'utf8')).toBe('keep me');
    const missing = await dirs.run('client', 'import', input);
    expectOneError(missing, 2);
    expect(missing.stderr).toContain('--secrets-out');
    expect(dirs.snapshot()).toBe(before);
  });

  test('JSON input; tls_client_auth rows need no secrets file', async () => {
    const input = file('fleet.json', JSON.stringify([{ client_id: 'j-1', scope: SCOPE, token_ttl: 300, auth_method: 'tls_client_auth' }, { client_id: 'j-2', scope: SCOPE, auth_method: 'tls_client_auth' }]));
    const out = await dirs.json('client', 'import', input);
    expect(out).toMatchObject({ created: 2, clients: [{ row: 1, line: null, client_id: 'j-1', auth_method: 'tls_client_auth' }, { row: 2, client_id: 'j-2' }], secrets_file: null });
    expect(await dirs.json('client', 'show', 'j-1')).toMatchObject({ token_ttl: 300, auth_method: 'tls_client_auth' });
  });

  test('--certs issues one certificate per client: files, 0600 keys, serials recorded', async () => {
    // A '#' wildcard in a scope is data, not a CSV comment.
    const input = file('certs.csv', csv(20, (i) => `cert-${i},mqtt:publish:fleet/{client_id}/# mqtt:subscribe:fleet/{client_id}/cmd,,`));
    const certs = join(dirs.root, 'device-certs');
    const out = await dirs.json('client', 'import', input, '--secrets-out', join(dirs.root, 's.json'), '--certs', certs, '--cert-days', '90');
    const rows = out.clients as { client_id: string; certificate_serial: string; cert: string; key: string }[];
    expect(rows).toHaveLength(20);
    expect(readdirSync(certs).sort()).toEqual(['ca.crt', ...rows.flatMap((r) => [`${r.client_id}.crt`, `${r.client_id}.key`])].sort());
    const ca = new X509Certificate(readFileSync(join(certs, 'ca.crt')));
    for (const r of rows) {
      expect(statSync(r.key).mode & 0o777).toBe(0o600);
      const cert = new X509Certificate(readFileSync(r.cert));
      expect(cert.subject).toBe(`CN=${r.client_id}`);
      expect(cert.checkIssued(ca)).toBe(true);
      expect(cert.serialNumber.toLowerCase().replace(/^0+/, '')).toBe(r.certificate_serial.replace(/^0+/, ''));
    }
    const listed = (await dirs.json('cert', 'list')).certificates as { serial: string; client_id: string; status: string }[];
    expect(listed.map((c) => c.serial).sort()).toEqual(rows.map((r) => r.certificate_serial).sort());
    expect(listed.every((c) => c.status === 'valid')).toBe(true);
    expect(await dirs.json('client', 'show', 'cert-7')).toMatchObject({ scope: expect.stringContaining('mqtt:publish:fleet/{client_id}/#') });
  });
});

describe('POST /admin/clients:batch', () => {
  let lk: TestServer;
  let writer: string;
  let reader: string;
  beforeAll(async () => {
    lk = await startTestServer();
    writer = lk.server.people.apiKeys.create({ name: 'provisioner', scope: 'admin:write' }, 'test').key;
    reader = lk.server.people.apiKeys.create({ name: 'auditor', scope: 'admin:read' }, 'test').key;
  });
  afterAll(() => lk.close());

  const batch = (token: string, body: unknown) =>
    fetch(`${lk.baseUrl}/admin/clients:batch`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  test('creates every client and answers each secret once; the clients work at once', async () => {
    const clients = Array.from({ length: 100 }, (_, i) => ({ client_id: `b-${i}`, scope: SCOPE }));
    const res = await batch(writer, { clients });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { created: number; clients: { client_id: string; client_secret: string }[] };
    expect(body.created).toBe(100);
    const token = await lk.token('b-42', body.clients[42]!.client_secret);
    expect(token.access_token).toBeTruthy();
  });

  test('a bad row refuses the batch with a report per row; nothing is created', async () => {
    const res = await batch(writer, { clients: [{ client_id: 'c-1', scope: SCOPE }, { client_id: 'c-2', scope: '' }, { client_id: 'c-1', scope: SCOPE }] });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; rows: { row: number; client_id: string; error: string }[] };
    expect(body.error).toBe('invalid_request');
    expect(body.rows).toEqual([
      { row: 2, client_id: 'c-2', error: 'scope is missing' },
      { row: 3, client_id: 'c-1', error: 'duplicate client_id "c-1" (also row 1)' },
    ]);
    expect(lk.server.store.clients.get('c-1')).toBeUndefined();
  });

  test('certificates on request; admin:read may not import', async () => {
    const res = await batch(writer, { clients: [{ client_id: 'd-1', scope: SCOPE, auth_method: 'tls_client_auth' }], certificates: { days: 30 } });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { clients: { client_secret: null; certificate: { serial: string; cert: string; key: string } }[] };
    expect(body.clients[0]!.client_secret).toBeNull();
    expect(body.clients[0]!.certificate.key).toContain('BEGIN PRIVATE KEY');
    expect(lk.server.store.certificates.bySerial(body.clients[0]!.certificate.serial)?.clientId).toBe('d-1');
    expect((await batch(reader, { clients: [{ client_id: 'e-1', scope: SCOPE }] })).status).toBe(403);
  });
});
