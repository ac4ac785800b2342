import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliDirs, cliDirs, expectOneError, spawnTimeout, THERMOSTAT_SCOPE } from './fixture.js';

const VIEW_KEYS = ['auth_method', 'client_id', 'created_at', 'scope', 'secrets', 'static_password', 'status', 'token_ttl', 'updated_at'];

describe('latchkey client', { timeout: spawnTimeout(5) }, () => {
  let cli: CliDirs;
  let secret = '';
  beforeAll(() => {
    cli = cliDirs();
  });
  afterAll(() => cli.remove());

  it('create prints the secret once as {client_id, client_secret}', async () => {
    const created = await cli.json('client', 'create', 'thermostat-1', '--scope', THERMOSTAT_SCOPE, '--token-ttl', '5m');
    expect(Object.keys(created).sort()).toEqual(['client_id', 'client_secret']);
    expect(created.client_id).toBe('thermostat-1');
    // 256 bits, base64url.
    expect(created.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    secret = created.client_secret as string;
  });

  it('show returns the ClientView without any secret', async () => {
    const shown = await cli.json('client', 'show', 'thermostat-1');
    expect(Object.keys(shown).sort()).toEqual(VIEW_KEYS);
    expect(shown).toMatchObject({ client_id: 'thermostat-1', scope: THERMOSTAT_SCOPE, token_ttl: 300, status: 'enabled', auth_method: 'client_secret_basic' });
    expect(shown.secrets).toEqual([{ expires_at: null }]);
    expect(JSON.stringify(shown)).not.toContain(secret);
    expect(Object.keys(shown)).not.toContain('client_secret');
    const human = await cli.run('client', 'show', 'thermostat-1');
    expect(human.stdout).toMatch(/^client id\s+thermostat-1\n/);
    expect(human.stdout).not.toContain(secret);
  });

  it('list returns {clients: [...]} without any secret, also in human form', async () => {
    await cli.json('client', 'create', 'hub', '--scope', 'mqtt:subscribe:home/+/telemetry');
    const listed = await cli.json('client', 'list');
    expect(Object.keys(listed)).toEqual(['clients']);
    const clients = listed.clients as Record<string, unknown>[];
    expect(clients.map((c) => c.client_id)).toEqual(['hub', 'thermostat-1']);
    for (const c of clients) expect(Object.keys(c).sort()).toEqual(VIEW_KEYS);
    expect(JSON.stringify(listed)).not.toContain(secret);
    const human = await cli.run('client', 'list');
    expect(human.stdout).not.toContain(secret);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^CLIENT ID\s+STATUS/);
    expect(human.stdout).toMatch(/\nthermostat-1\s+enabled\s+client_secret_basic\s+5m\s+mqtt:publish/);
  });

  it('human create says the secret will not be shown again', async () => {
    const result = await cli.run('client', 'create', 'sensor-9', '--scope', 'mqtt:publish:s/9');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/client_secret: [A-Za-z0-9_-]{43}\n/);
    expect(result.stdout).toMatch(/will not be shown again/);
  });

  it('rotate-secret prints a new secret and keeps the old one for the grace period', async () => {
    const before = await cli.json('client', 'create', 'rot', '--scope', 'mqtt:publish:r');
    const rotated = await cli.json('client', 'rotate-secret', 'rot');
    expect(Object.keys(rotated).sort()).toEqual(['client_id', 'client_secret']);
    expect(rotated.client_id).toBe('rot');
    expect(rotated.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(rotated.client_secret).not.toBe(before.client_secret);
    const shown = await cli.json('client', 'show', 'rot');
    const secrets = shown.secrets as { expires_at: string | null }[];
    expect(secrets).toHaveLength(2);
    // Default grace: 24 hours.
    const graceEnd = Date.parse(secrets.find((s) => s.expires_at !== null)!.expires_at!);
    expect(Math.abs(graceEnd - (Date.now() + 24 * 3600_000))).toBeLessThan(60_000);

    await cli.json('client', 'rotate-secret', 'rot', '--grace', '0');
    expect(((await cli.json('client', 'show', 'rot')).secrets as unknown[])).toHaveLength(1);
  });

  it('set-scope replaces the scopes', async () => {
    const view = await cli.json('client', 'set-scope', 'sensor-9', '--scope', 'mqtt:publish:s/9 mqtt:subscribe:s/9/cmd');
    expect(view).toMatchObject({ client_id: 'sensor-9', scope: 'mqtt:publish:s/9 mqtt:subscribe:s/9/cmd' });
  });

  it('disable, enable and delete', async () => {
    expect(await cli.json('client', 'disable', 'sensor-9')).toMatchObject({ client_id: 'sensor-9', status: 'disabled' });
    expect(await cli.json('client', 'enable', 'sensor-9')).toMatchObject({ client_id: 'sensor-9', status: 'enabled' });
    expect(await cli.json('client', 'delete', 'sensor-9')).toEqual({ client_id: 'sensor-9', deleted: true, live_sessions: 0 });
    expectOneError(await cli.run('client', 'show', 'sensor-9'), 3);
  });

  it('accepts every registered auth method name', async () => {
    const created = await cli.json('client', 'create', 'post-1', '--scope', 'mqtt:publish:p', '--auth-method', 'client_secret_post');
    expect(created.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await cli.json('client', 'show', 'post-1')).toMatchObject({ auth_method: 'client_secret_post' });
    const tls = await cli.json('client', 'create', 'tls-1', '--scope', 'mqtt:publish:t', '--auth-method', 'tls_client_auth');
    // No shared secret for certificate clients.
    expect(tls).toEqual({ client_id: 'tls-1', client_secret: null });
  });
});
