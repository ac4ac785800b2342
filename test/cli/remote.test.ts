import { X509Certificate } from 'node:crypto';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, runCli, startTestServer, type TestServer, tempDir } from '../helpers/latchkey.js';
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
    expect(await rjson('apikey', 'delete', 'remote-bridge')).toEqual({ id: 'remote-bridge', deleted: true });

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
