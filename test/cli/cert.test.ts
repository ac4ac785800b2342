import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { x509 } from '../../src/pki/x509.js';
import { type CliDirs, cliDirs, expectOneError, spawnTimeout } from './fixture.js';

const SCOPE = 'mqtt:publish:dev/{client_id}/#';

describe('latchkey cert', { timeout: spawnTimeout(5) }, () => {
  let cli: CliDirs;
  beforeAll(async () => {
    cli = cliDirs();
    await cli.json('client', 'create', 'cam-1', '--scope', SCOPE);
    await cli.json('client', 'create', 'cam-2', '--scope', SCOPE, '--auth-method', 'tls_client_auth');
  }, spawnTimeout(2));
  afterAll(() => cli.remove());

  it('issue writes <id>.crt, <id>.key (0600) and ca.crt, and prints {serial, cert, key, not_after}', async () => {
    const out = join(cli.root, 'out-1');
    const issued = await cli.json('cert', 'issue', 'cam-1', '--out', out);
    expect(issued).toMatchObject({ cert: join(out, 'cam-1.crt'), key: join(out, 'cam-1.key') });
    expect(issued.serial).toMatch(/^[0-9a-f]{32}$/);
    expect(statSync(join(out, 'cam-1.key')).mode & 0o777).toBe(0o600);
    const cert = new x509.X509Certificate(readFileSync(join(out, 'cam-1.crt'), 'utf8'));
    const ca = new x509.X509Certificate(readFileSync(join(out, 'ca.crt'), 'utf8'));
    expect(cert.subject).toBe('CN=cam-1');
    expect(cert.serialNumber.toLowerCase()).toBe(issued.serial);
    expect(await cert.verify({ publicKey: ca.publicKey, signatureOnly: true })).toBe(true);
    expect(new Date(issued.not_after as string).getTime()).toBe(cert.notAfter.getTime());
    // Default validity: 365 days.
    expect(Math.round((cert.notAfter.getTime() - Date.now()) / 86_400_000)).toBe(365);
    // The CA is the one `init` put in --certs-dir.
    expect(readFileSync(join(out, 'ca.crt'), 'utf8')).toBe(readFileSync(join(cli.certsDir, 'ca.crt'), 'utf8'));
  });

  it('--days sets the validity', async () => {
    const issued = await cli.json('cert', 'issue', 'cam-2', '--out', join(cli.root, 'out-2'), '--days', '7');
    expect(Math.round((Date.parse(issued.not_after as string) - Date.now()) / 86_400_000)).toBe(7);
  });

  it('list shows every certificate, or one client\'s, newest first; never a key', async () => {
    const all = (await cli.json('cert', 'list')).certificates as Record<string, unknown>[];
    expect(all.map((c) => c.client_id)).toEqual(['cam-2', 'cam-1']);
    expect(all[0]).toMatchObject({ status: 'valid', revoked_at: null, fingerprint: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    expect(JSON.stringify(all)).not.toContain('PRIVATE KEY');
    const one = (await cli.json('cert', 'list', '--client', 'cam-1')).certificates as Record<string, unknown>[];
    expect(one.map((c) => c.client_id)).toEqual(['cam-1']);
    const human = await cli.run('cert', 'list');
    expect(human.stdout).toMatch(/^SERIAL\s+CLIENT ID\s+STATUS/);
  });

  it('revoke accepts openssl spelling (colons, upper case), is idempotent, and list shows it revoked', async () => {
    const serial = ((await cli.json('cert', 'list', '--client', 'cam-1')).certificates as { serial: string }[])[0]!.serial;
    const spelled = serial.toUpperCase().match(/../g)!.join(':');
    expect(await cli.json('cert', 'revoke', spelled)).toEqual({ serial, client_id: 'cam-1', revoked: true, already_revoked: false });
    expect(await cli.json('cert', 'revoke', serial)).toEqual({ serial, client_id: 'cam-1', revoked: true, already_revoked: true });
    const listed = ((await cli.json('cert', 'list', '--client', 'cam-1')).certificates as Record<string, unknown>[])[0]!;
    expect(listed).toMatchObject({ serial, status: 'revoked', revoked_at: expect.any(String) });
  });

  describe('bad input: one error line, the exit status, nothing changed', () => {
    const cases: { name: string; args: (root: string) => string[]; status: number }[] = [
      { name: 'unknown client', args: (r) => ['cert', 'issue', 'nobody', '--out', join(r, 'x1')], status: 3 },
      { name: 'malformed client id', args: (r) => ['cert', 'issue', 'bad id', '--out', join(r, 'x2')], status: 2 },
      { name: 'days not a number', args: (r) => ['cert', 'issue', 'cam-1', '--out', join(r, 'x3'), '--days', 'soon'], status: 2 },
      { name: 'days zero', args: (r) => ['cert', 'issue', 'cam-1', '--out', join(r, 'x4'), '--days', '0'], status: 2 },
      { name: 'days past the CA', args: (r) => ['cert', 'issue', 'cam-1', '--out', join(r, 'x5'), '--days', '40000'], status: 2 },
      { name: 'missing CSR file', args: (r) => ['cert', 'issue', 'cam-1', '--out', join(r, 'x6'), '--csr', join(r, 'nope.csr')], status: 2 },
      { name: 'CSR not a CSR', args: (r) => ['cert', 'issue', 'cam-1', '--out', join(r, 'x7'), '--csr', join(r, 'garbage.csr')], status: 2 },
      { name: 'missing --out', args: () => ['cert', 'issue', 'cam-1'], status: 2 },
      { name: 'revoke unknown serial', args: () => ['cert', 'revoke', 'abcdef0123'], status: 3 },
      { name: 'revoke not a serial', args: () => ['cert', 'revoke', 'xyz'], status: 2 },
    ];
    it.each(cases)('$name', async ({ name, args, status }) => {
      writeFileSync(join(cli.root, 'garbage.csr'), '-----BEGIN CERTIFICATE REQUEST-----\nbm90IGEgY3Ny\n-----END CERTIFICATE REQUEST-----\n');
      const before = cli.snapshot();
      const argv = args(cli.root);
      expectOneError(await cli.run(...argv), status);
      const outIndex = argv.indexOf('--out');
      if (outIndex >= 0) expect(existsSync(argv[outIndex + 1]!), name).toBe(false);
      // Audit events aside, the database is as it was.
      const strip = (dump: string) => dump.split('\n').filter((l) => !l.startsWith('audit_events')).join('\n');
      expect(strip(cli.snapshot())).toBe(strip(before));
    });
  });
});

describe('latchkey client create for key-based methods', { timeout: spawnTimeout(5) }, () => {
  let cli: CliDirs;
  beforeAll(() => {
    cli = cliDirs();
  });
  afterAll(() => cli.remove());

  it('--jwk registers a private_key_jwt client from a public JWK (no secret), storing only public members', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const file = join(cli.root, 'pub.jwk');
    writeFileSync(file, JSON.stringify({ ...publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig' }));
    expect(await cli.json('client', 'create', 'jwt-1', '--scope', SCOPE, '--auth-method', 'private_key_jwt', '--jwk', file)).toEqual({
      client_id: 'jwt-1',
      client_secret: null,
    });
    expect(await cli.json('client', 'show', 'jwt-1')).toMatchObject({ auth_method: 'private_key_jwt', secrets: [] });
    const db = new Database(join(cli.dataDir, 'latchkey.db'), { readonly: true });
    try {
      const stored = JSON.parse(db.prepare("SELECT public_jwk FROM clients WHERE id = 'jwt-1'").pluck().get() as string) as Record<string, unknown>;
      expect(Object.keys(stored).sort()).toEqual(['crv', 'kid', 'kty', 'x', 'y']);
    } finally {
      db.close();
    }
    // --jwk alone implies private_key_jwt.
    expect(await cli.json('client', 'create', 'jwt-2', '--scope', SCOPE, '--jwk', file)).toEqual({ client_id: 'jwt-2', client_secret: null });
    expect(await cli.json('client', 'show', 'jwt-2')).toMatchObject({ auth_method: 'private_key_jwt' });
  });

  it('--jwk takes a PEM public key or certificate too', async () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const file = join(cli.root, 'pub.pem');
    writeFileSync(file, publicKey.export({ type: 'spki', format: 'pem' }));
    expect(await cli.json('client', 'create', 'jwt-pem', '--scope', SCOPE, '--jwk', file)).toMatchObject({ client_id: 'jwt-pem' });
  });

  it('tls_client_auth clients get no secret', async () => {
    expect(await cli.json('client', 'create', 'tls-1', '--scope', SCOPE, '--auth-method', 'tls_client_auth')).toEqual({ client_id: 'tls-1', client_secret: null });
  });

  const refusals: { name: string; file: () => string; extra?: string[] }[] = [
    {
      name: 'a private JWK',
      file: () => JSON.stringify(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' })),
    },
    { name: 'a symmetric JWK', file: () => JSON.stringify({ kty: 'oct', k: 'c2VjcmV0' }) },
    {
      name: 'a PEM private key',
      file: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    },
    {
      name: 'a short RSA key',
      file: () => JSON.stringify(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' })),
    },
    { name: 'not a key', file: () => 'hello' },
    {
      name: 'a key for a secret client',
      file: () => JSON.stringify(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' })),
      extra: ['--auth-method', 'client_secret_basic'],
    },
  ];
  it.each(refusals)('refuses $name (exit 2) and creates nothing', async ({ name, file, extra }) => {
    const path = join(cli.root, `refused-${refusals.findIndex((r) => r.name === name)}`);
    writeFileSync(path, file());
    expectOneError(await cli.run('client', 'create', 'jwt-refused', '--scope', SCOPE, '--jwk', path, ...(extra ?? [])), 2);
    expectOneError(await cli.run('client', 'show', 'jwt-refused'), 3);
  });

  it('private_key_jwt without --jwk is refused', async () => {
    expectOneError(await cli.run('client', 'create', 'jwt-nokey', '--scope', SCOPE, '--auth-method', 'private_key_jwt'), 2);
  });
});
