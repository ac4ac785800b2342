import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, runCli, startTestServer, type TestServer, tempDir } from '../helpers/latchkey.js';
import { connectDevice, eventually, refusalCode } from '../helpers/mqtt.js';
import { clientCredentialsToken } from '../helpers/token.js';
import { expectOneError, parseLines, parseOneObject, THERMOSTAT_SCOPE } from './fixture.js';

/**
 * `latchkey --server <url> --token <PAT or API key>`: every command through
 * the admin API of a real running server, with the same --json output as
 * the same command on the server's own files.
 */
describe('latchkey --server: remote mode over the admin API', () => {
  let lk: TestServer;
  let writer: string;
  let reader: string;
  let remote: (...args: string[]) => Promise<CliResult>;
  const outDir = tempDir('latchkey-remote-out-');

  /** A remote command with --json that must succeed: its one object. */
  const rjson = async (...args: string[]): Promise<Record<string, unknown>> => {
    const result = await remote(...args, '--json');
    expect(result.stderr, `stderr of ${args.join(' ')}`).toBe('');
    expect(result.code, `exit of ${args.join(' ')}`).toBe(0);
    return parseOneObject(result.stdout);
  };
  /** The same read command locally and remotely: byte-for-byte the same --json output. */
  const sameBothWays = async (...args: string[]): Promise<string> => {
    const [here, there] = await Promise.all([lk.cli(...args, '--json'), remote(...args, '--json')]);
    expect(there.stderr).toBe('');
    expect(here.code).toBe(0);
    expect(there.code).toBe(0);
    expect(there.stdout).toBe(here.stdout);
    return there.stdout;
  };

  beforeAll(async () => {
    lk = await startTestServer();
    const { users, pats, apiKeys } = lk.server.people;
    users.create({ name: 'ops', scope: 'admin:write' }, 'test');
    writer = pats.create({ user: 'ops', name: 'remote', scope: 'admin:write' }, 'test').token;
    reader = apiKeys.create({ name: 'dashboard', scope: 'admin:read' }, 'test').key;
    // The token travels in the environment, as the README recommends (flags show in ps).
    remote = (...args) => runCli(['--server', lk.baseUrl, ...args], { LATCHKEY_TOKEN: writer });
  });
  afterAll(async () => {
    await lk.close();
    rmSync(outDir, { recursive: true, force: true });
  });

  it('manages clients on the server: create, show, set-scope, rotate-secret, disable, enable, delete', async () => {
    const created = await rjson('client', 'create', 'remote-t1', '--scope', THERMOSTAT_SCOPE, '--token-ttl', '5m');
    expect(Object.keys(created)).toEqual(['client_id', 'client_secret']);
    // The server knows it: the secret gets a token at its token endpoint.
    await clientCredentialsToken(lk.baseUrl, 'remote-t1', created.client_secret as string);
    expect(lk.server.registry.show('remote-t1')).toMatchObject({ token_ttl: 300, scope: THERMOSTAT_SCOPE });
    await sameBothWays('client', 'show', 'remote-t1');
    await sameBothWays('client', 'list');

    expect(await rjson('client', 'set-scope', 'remote-t1', '--scope', 'mqtt:publish:x/y')).toMatchObject({ scope: 'mqtt:publish:x/y' });
    const rotated = await rjson('client', 'rotate-secret', 'remote-t1', '--grace', '0');
    expect(rotated.client_secret).not.toBe(created.client_secret);
    await clientCredentialsToken(lk.baseUrl, 'remote-t1', rotated.client_secret as string);
    await expect(clientCredentialsToken(lk.baseUrl, 'remote-t1', created.client_secret as string)).rejects.toThrow();

    expect(await rjson('client', 'set-auth-method', 'remote-t1', 'tls_client_auth')).toEqual({
      client_id: 'remote-t1',
      auth_method: 'tls_client_auth',
      client_secret: null,
      secret: 'deleted',
    });
    expect(lk.server.registry.show('remote-t1').auth_method).toBe('tls_client_auth');
    expect(await rjson('client', 'disable', 'remote-t1')).toMatchObject({ status: 'disabled' });
    expect(lk.server.registry.show('remote-t1').status).toBe('disabled');
    expect(await rjson('client', 'enable', 'remote-t1')).toMatchObject({ status: 'enabled' });
    expect(await rjson('client', 'delete', 'remote-t1')).toEqual({ client_id: 'remote-t1', deleted: true, live_sessions: 0 });
    expect(lk.server.registry.list().map((c) => c.client_id)).not.toContain('remote-t1');
    // The audit trail names who did it from afar.
    const events = lk.auditEvents({ principal: 'remote-t1', limit: 20 });
    expect(events.map((e) => e.detail?.actor)).toContain('admin:ops');
  });

  it('issues a certificate with a key made on this machine, lists and revokes it', async () => {
    await rjson('client', 'create', 'remote-cam', '--scope', 'mqtt:publish:cam/{client_id}');
    const issued = await rjson('cert', 'issue', 'remote-cam', '--out', outDir, '--days', '30');
    expect(Object.keys(issued)).toEqual(['serial', 'cert', 'key', 'not_after', 'ca', 'fingerprint']);
    expect(issued.key).toBe(join(outDir, 'remote-cam.key'));
    expect(statSync(issued.key as string).mode & 0o777).toBe(0o600);
    const cert = new X509Certificate(readFileSync(issued.cert as string));
    expect(cert.subject).toBe('CN=remote-cam');
    expect(cert.checkPrivateKey((await import('node:crypto')).createPrivateKey(readFileSync(issued.key as string)))).toBe(true);
    expect(cert.verify(new X509Certificate(readFileSync(join(lk.certsDir, 'ca.crt'))).publicKey)).toBe(true);
    await sameBothWays('cert', 'list', '--client', 'remote-cam');
    expect(await rjson('cert', 'revoke', issued.serial as string)).toMatchObject({ revoked: true, already_revoked: false });
    expect(lk.server.store.certificates.list('remote-cam')[0]!.revokedAt).not.toBeNull();
  });

  it('manages users, personal access tokens, API keys, tokens, keys, audit and explain', async () => {
    expect(await rjson('user', 'create', 'remote-uma', '--scope', 'admin:read mqtt:subscribe:home/#')).toMatchObject({ name: 'remote-uma', status: 'enabled' });
    await sameBothWays('user', 'show', 'remote-uma');
    expect(await rjson('user', 'set-scope', 'remote-uma', '--scope', 'admin:read')).toMatchObject({ scope: 'admin:read' });
    expect(await rjson('user', 'disable', 'remote-uma')).toMatchObject({ status: 'disabled' });
    expect(await rjson('user', 'enable', 'remote-uma')).toMatchObject({ status: 'enabled' });
    await sameBothWays('user', 'list');

    const pat = await rjson('pat', 'create', 'remote-uma', '--name', 'laptop', '--scope', 'admin:read', '--expires-in', '7d');
    expect(Object.keys(pat)).toEqual(['id', 'token', 'expires_at']);
    // The new PAT works against the same server.
    const sessions = await fetch(`${lk.baseUrl}/admin/sessions`, { headers: { authorization: `Bearer ${pat.token as string}` } });
    expect(sessions.status).toBe(200);
    await sameBothWays('pat', 'list', '--user', 'remote-uma');
    expect(await rjson('pat', 'revoke', pat.id as string)).toEqual({ id: pat.id, user: 'remote-uma', revoked: true, already_revoked: false });

    const key = await rjson('apikey', 'create', 'remote-bridge', '--scope', 'mqtt:publish:bridge/#');
    expect(Object.keys(key)).toEqual(['id', 'key']);
    const rolled = await rjson('apikey', 'roll', 'remote-bridge', '--grace', '1h');
    expect(Object.keys(rolled)).toEqual(['id', 'key', 'previous_expires_at']);
    await sameBothWays('apikey', 'list');
    expect(await rjson('apikey', 'disable', 'remote-bridge')).toMatchObject({ id: 'remote-bridge', status: 'disabled' });
    expect(await rjson('apikey', 'enable', 'remote-bridge')).toMatchObject({ id: 'remote-bridge', status: 'enabled' });
    expect(await rjson('apikey', 'delete', 'remote-bridge')).toEqual({ id: 'remote-bridge', name: 'remote-bridge', deleted: true });

    await rjson('user', 'create', 'remote-gone');
    expect(await rjson('user', 'delete', 'remote-gone')).toEqual({ name: 'remote-gone', deleted: true });
    expect(lk.server.store.users.get('remote-gone')).toBeFalsy();

    expect(await rjson('token', 'revoke', 'remote-jti-1')).toEqual({ jti: 'remote-jti-1', revoked: true, already_revoked: false });
    expect(await rjson('token', 'revoke', 'remote-jti-1')).toEqual({ jti: 'remote-jti-1', revoked: true, already_revoked: true });

    const before = lk.server.store.signingKeys.published(Date.now()).find((k) => k.retiredAt === null)!.kid;
    const rotation = await rjson('keys', 'rotate');
    expect(rotation.retired_kid).toBe(before);
    expect(Object.keys(rotation)).toEqual(['kid', 'retired_kid', 'retired_published_until']);

    // audit: the same JSON Lines as the local command.
    lk.server.audit.flush();
    const lines = await sameBothWays('audit', '--client', 'remote-uma', '--limit', '5');
    expect(parseLines(lines).length).toBeGreaterThan(0);

    expect(await rjson('audit', 'prune', '--older-than', '3650d')).toEqual({ deleted: 0 });
    expect(lk.auditEvents({ event: 'audit.pruned', limit: 1 })[0]!.detail).toMatchObject({ actor: 'admin:ops', older_than: '3650d' });

    // Live tokens and sessions, as the server records them: the same both ways.
    await sameBothWays('token', 'list');
    await sameBothWays('sessions');

    lk.createClient('remote-hub', 'mqtt:subscribe:home/+/telemetry');
    const allow = await sameBothWays('explain', 'remote-hub', 'subscribe', 'home/t1/telemetry');
    expect(JSON.parse(allow)).toMatchObject({ allow: true });
    expect(JSON.parse(await sameBothWays('explain', 'remote-hub', 'publish', 'home/t1/telemetry'))).toMatchObject({ allow: false, scope: 'mqtt:publish:home/t1/telemetry' });
  });

  it('manages static passwords: create --static-password, rotate-password, revoke-password; kicks a session with --revoke', async () => {
    const created = await rjson('client', 'create', 'remote-plug', '--scope', 'mqtt:subscribe:cmnd/{client_id}/#', '--static-password');
    expect(Object.keys(created)).toEqual(['client_id', 'client_secret', 'mqtt_password']);
    expect(created.client_secret).toBeNull();
    await sameBothWays('client', 'show', 'remote-plug');
    // The device connects with the password the remote command printed.
    const first = await connectDevice(lk.mqttUrl, 'remote-plug', created.mqtt_password as string);
    await first.endAsync();

    const rotated = await rjson('client', 'rotate-password', 'remote-plug', '--grace', '0');
    expect(Object.keys(rotated)).toEqual(['client_id', 'mqtt_password', 'previous_expires_at']);
    expect(rotated.mqtt_password).not.toBe(created.mqtt_password);
    expect(await refusalCode(connectDevice(lk.mqttUrl, 'remote-plug', created.mqtt_password as string))).toBe(4);

    // sessions kick --revoke through DELETE /admin/sessions/:id?revoke=true: the session ends and its password dies.
    const device = await connectDevice(lk.mqttUrl, 'remote-plug', rotated.mqtt_password as string);
    await eventually(async () => lk.server.sessions.list('remote-plug').length === 1, 5000, 'session listed');
    const kicked = await rjson('sessions', 'kick', 'remote-plug', '--revoke');
    expect(kicked).toMatchObject({ client_id: 'remote-plug', kicked: 1, ended: true, revoked: [{ method: 'static_password', already_revoked: false }] });
    await eventually(() => !device.connected, 5000, 'device disconnected');
    // 5 (not authorised): the broker knows the password, and that it was revoked.
    expect(await refusalCode(connectDevice(lk.mqttUrl, 'remote-plug', rotated.mqtt_password as string))).toBe(5);

    const again = await rjson('client', 'rotate-password', 'remote-plug');
    expect(await rjson('client', 'revoke-password', 'remote-plug')).toEqual({ client_id: 'remote-plug', revoked: 1, live_sessions: 0 });
    expect(await refusalCode(connectDevice(lk.mqttUrl, 'remote-plug', again.mqtt_password as string))).toBe(5);
    expect(JSON.parse(await sameBothWays('client', 'show', 'remote-plug'))).toMatchObject({ static_password: false });
    expect(lk.auditEvents({ principal: 'remote-plug', limit: 50 }).map((e) => e.detail?.actor)).toContain('admin:ops');
  });

  it('disables a hub and the devices it vouched for with --cascade', async () => {
    lk.createClient('remote-hub-c', 'mqtt:publish:a');
    lk.createClient('remote-dev-c', 'mqtt:publish:b');
    lk.server.store.provisionedClients.insert({ clientId: 'remote-dev-c', template: 't', claimId: 'clm_x', provisionedBy: 'remote-hub-c', createdAt: Date.now() });
    const disabled = await rjson('client', 'disable', 'remote-hub-c', '--cascade');
    expect(disabled).toMatchObject({ client_id: 'remote-hub-c', status: 'disabled', live_sessions: 0, cascade: ['remote-dev-c'] });
    expect(lk.server.registry.show('remote-dev-c').status).toBe('disabled');
    // Without --cascade the answer has no cascade field, as locally.
    await rjson('client', 'enable', 'remote-hub-c');
    expect(await rjson('client', 'disable', 'remote-hub-c')).not.toHaveProperty('cascade');
  });

  it('manages templates and claims; lists never show the claim secret', async () => {
    const template = await rjson('template', 'create', 'remote-thermo', '--scope', THERMOSTAT_SCOPE, '--id-prefix', 'rt-', '--auth', 'secret');
    expect(template).toMatchObject({ name: 'remote-thermo', id_prefix: 'rt-', auth: 'secret', cert_days: 365 });
    await sameBothWays('template', 'show', 'remote-thermo');
    await sameBothWays('template', 'list');

    const claim = await rjson('claim', 'create', '--template', 'remote-thermo', '--uses', '2', '--expires-in', '1h');
    // The same fields as a local claim: the server's QR code is not part of the CLI's answer.
    expect(Object.keys(claim)).toEqual(['id', 'claim', 'onboarding', 'expires_at']);
    expect(lk.server.store.claims.list().map((c) => c.id)).toContain(claim.id);
    const listed = JSON.parse(await sameBothWays('claim', 'list')) as { claims: { id: string; uses: number }[] };
    expect(listed.claims.find((c) => c.id === claim.id)).toMatchObject({ uses: 2 });
    expect(JSON.stringify(listed)).not.toContain(claim.claim as string);
    // Endpoint overrides are for the server's own files: refused, not silently ignored.
    const override = await remote('claim', 'create', '--template', 'remote-thermo', '--public-host', 'elsewhere.test');
    expectOneError(override, 2);
    expect(override.stderr).toMatch(/--public-host/);
    expect(await rjson('claim', 'revoke', claim.id as string)).toEqual({ id: claim.id, revoked: true, already_revoked: false });
    expect(await rjson('claim', 'revoke', claim.id as string)).toEqual({ id: claim.id, revoked: true, already_revoked: true });

    expect(await rjson('template', 'delete', 'remote-thermo')).toEqual({ name: 'remote-thermo', deleted: true });
    expectOneError(await remote('template', 'show', 'remote-thermo'), 3);
  });

  it('imports clients through /admin/clients:batch: secrets to the file only, row problems by line, nothing half done', async () => {
    const csv = join(outDir, 'fleet.csv');
    writeFileSync(csv, 'client_id,scope,token_ttl\nremote-i1,mqtt:publish:a,5m\nremote-i2,mqtt:publish:b,\n');
    // Secrets and nowhere to put them: refused before the server creates anything.
    const nowhere = await remote('client', 'import', csv);
    expectOneError(nowhere, 2);
    expect(nowhere.stderr).toContain('--secrets-out');
    expect(lk.server.registry.list().map((c) => c.client_id)).not.toContain('remote-i1');

    const secretsOut = join(outDir, 'fleet-secrets.json');
    const imported = await rjson('client', 'import', csv, '--secrets-out', secretsOut);
    expect(imported).toMatchObject({
      created: 2,
      clients: [
        { row: 1, line: 2, client_id: 'remote-i1', auth_method: 'client_secret_basic' },
        { row: 2, line: 3, client_id: 'remote-i2' },
      ],
      secrets_file: secretsOut,
    });
    expect(JSON.stringify(imported)).not.toMatch(/client_secret"/);
    expect(statSync(secretsOut).mode & 0o777).toBe(0o600);
    const secrets = JSON.parse(readFileSync(secretsOut, 'utf8')) as { clients: { client_id: string; client_secret: string }[] };
    await clientCredentialsToken(lk.baseUrl, 'remote-i1', secrets.clients[0]!.client_secret);
    expect(lk.server.registry.show('remote-i1').token_ttl).toBe(300);

    // A bad file: the same message both ways, with the file's line numbers, and nothing created.
    const bad = join(outDir, 'bad.csv');
    writeFileSync(bad, 'client_id,scope,auth_method\nremote-i3,mqtt:publish:a,tls_client_auth\nremote-i1,mqtt:publish:a,tls_client_auth\n');
    const [here, there] = await Promise.all([lk.cli('client', 'import', bad), remote('client', 'import', bad)]);
    expectOneError(there, 2);
    expect(there.stderr).toBe(here.stderr);
    expect(there.stderr).toContain('line 3 (remote-i1)');
    expect(lk.server.registry.list().map((c) => c.client_id)).not.toContain('remote-i3');

    // Certificates: the server's keys and certificates land in --certs.
    const json = join(outDir, 'cams.json');
    writeFileSync(json, JSON.stringify([{ client_id: 'remote-i4', scope: 'mqtt:publish:c', auth_method: 'tls_client_auth' }]));
    const certsOut = join(outDir, 'import-certs');
    const withCerts = await rjson('client', 'import', json, '--certs', certsOut, '--cert-days', '30');
    expect(withCerts).toMatchObject({ created: 1, clients: [{ client_id: 'remote-i4', cert: join(certsOut, 'remote-i4.crt'), key: join(certsOut, 'remote-i4.key') }] });
    expect(statSync(join(certsOut, 'remote-i4.key')).mode & 0o777).toBe(0o600);
    const cert = new X509Certificate(readFileSync(join(certsOut, 'remote-i4.crt')));
    expect(cert.subject).toBe('CN=remote-i4');
    expect(existsSync(join(certsOut, 'ca.crt'))).toBe(true);
  });

  it('mints a console login link on the server that logs in the user it names', async () => {
    const link = await rjson('console', '--user', 'ops');
    expect(Object.keys(link)).toEqual(['url', 'user', 'expires_at']);
    expect(link.user).toBe('ops');
    expect(link.url).toMatch(/^http:\/\/.+\/console\/#login=lk_cl_/);
    const secret = /#login=(.+)$/.exec(link.url as string)![1]!;
    const login = await fetch(`${lk.baseUrl}/console/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link: secret }) });
    expect(login.status).toBe(200);
    // Used once: a second login with it is refused.
    expect((await fetch(`${lk.baseUrl}/console/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link: secret }) })).status).toBe(401);
    // --url names the base the browser reaches; without --user a PAT's link logs in its own user.
    const own = await rjson('console', '--url', 'https://console.example.test/');
    expect(own).toMatchObject({ user: 'ops' });
    expect(own.url).toMatch(/^https:\/\/console\.example\.test\/console\/#login=lk_cl_/);
    // An API key is no person: it must name the user (and may only if it can write).
    const writerKey = lk.server.people.apiKeys.create({ name: 'remote-automation', scope: 'admin:write' }, 'test').key;
    const anonymous = await runCli(['--server', lk.baseUrl, 'console'], { LATCHKEY_TOKEN: writerKey });
    expectOneError(anonymous, 2);
    expect(anonymous.stderr).toMatch(/name the user the link logs in/);
    expectOneError(await runCli(['--server', lk.baseUrl, '--token', reader, 'console', '--user', 'ops']), 6);
  });

  it('maps refusals to the local exit statuses and one clear line', async () => {
    // Not found and conflict: the same message and status as on the server's own files.
    const [here, there] = await Promise.all([lk.cli('client', 'show', 'nobody'), remote('client', 'show', 'nobody')]);
    expectOneError(there, 3);
    expect(there.stderr).toBe(here.stderr);
    lk.createClient('remote-dup', 'mqtt:publish:a');
    expectOneError(await remote('client', 'create', 'remote-dup', '--scope', 'mqtt:publish:a'), 4);
    expectOneError(await remote('client', 'create', 'remote-bad', '--scope', 'mqtt:publish:a/#/b'), 2);

    // An admin:read key reads, and is refused every write with the scope it lacks (403 → 6).
    const asReader = (...args: string[]) => runCli(['--server', lk.baseUrl, '--token', reader, ...args]);
    expect((await asReader('client', 'list', '--json')).code).toBe(0);
    const refused = await asReader('client', 'create', 'remote-sneaky', '--scope', 'mqtt:publish:a');
    expectOneError(refused, 6);
    expect(refused.stderr).toMatch(/admin:write/);
    expect(lk.server.registry.list().map((c) => c.client_id)).not.toContain('remote-sneaky');

    // A bad token (401 → 6), no token, plain http off this machine (2), nobody listening (7).
    const bad = await runCli(['--server', lk.baseUrl, '--token', 'lk_pat_notarealtokennotarealtokennotareal', 'client', 'list']);
    expectOneError(bad, 6);
    expect(bad.stderr).toMatch(/refused the token/);
    const noToken = await runCli(['--server', lk.baseUrl, 'client', 'list'], { LATCHKEY_TOKEN: '' });
    expectOneError(noToken, 2);
    expect(noToken.stderr).toMatch(/LATCHKEY_TOKEN/);
    expectOneError(await runCli(['--server', 'http://latchkey.test:8080', '--token', writer, 'client', 'list']), 2);
    const closed = await closedPort();
    const down = await runCli(['--server', `http://127.0.0.1:${closed}`, '--token', writer, 'client', 'list']);
    expectOneError(down, 7);
    expect(down.stderr).toMatch(/cannot reach latchkey/);

    // init and start work on local files only: they say so instead of acting here.
    for (const command of [['init'], ['start']]) {
      const result = await remote(...command);
      expectOneError(result, 2);
      expect(result.stderr).toMatch(/this machine's files only/);
    }
  });

  it('reaches the server over HTTPS when told to trust its CA with --ca (LATCHKEY_CA)', async () => {
    const httpsArgs = ['--server', `https://127.0.0.1:${lk.server.ports.https}`, 'client', 'list', '--json'];
    const trusted = await runCli(httpsArgs, { LATCHKEY_TOKEN: writer, LATCHKEY_CA: join(lk.certsDir, 'ca.crt') });
    expect(trusted.stderr).toBe('');
    expect(trusted.code).toBe(0);
    expect(parseOneObject(trusted.stdout)).toHaveProperty('clients');
    const untrusted = await runCli(httpsArgs, { LATCHKEY_TOKEN: writer, LATCHKEY_CA: '' });
    expectOneError(untrusted, 7);
    expect(untrusted.stderr).toMatch(/--ca/);
  });
}, 60_000);

/** A port nobody listens on: bound, read, released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}
