import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawnTimeout, startTestServer, type TestServer } from '../helpers/latchkey.js';
import { closedWithin, connect, refusalCode, sleep } from '../helpers/mqtt.js';

let lk: TestServer;

beforeAll(async () => {
  lk = await startTestServer();
});
afterAll(() => lk.close());

/** Runs the CLI with --json and parses its one object; fails on a non-zero exit. */
async function json(...args: string[]): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON of many shapes
  const res = await lk.cli(...args, '--json');
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
  return JSON.parse(res.stdout);
}

/** Bad input: non-zero exit, exactly one line on stderr, nothing on stdout. */
async function refused(code: number, ...args: string[]): Promise<string> {
  const res = await lk.cli(...args, '--json');
  expect(res.code, res.stderr).toBe(code);
  expect(res.stdout).toBe('');
  expect(res.stderr.trimEnd().split('\n')).toHaveLength(1);
  return res.stderr;
}

function adminGet(token: string): Promise<number> {
  return fetch(`${lk.baseUrl}/admin/sessions`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
}

describe('latchkey user / pat (docs/INTERFACE.md#people-and-integrations)', { timeout: spawnTimeout(7) }, () => {
  test('user create: names shared with clients; a default scope ceiling; --scope narrows it', async () => {
    expect(await json('user', 'create', 'uma')).toMatchObject({ name: 'uma', status: 'enabled', scope: 'admin:write mqtt:publish:# mqtt:subscribe:#' });
    expect(await json('user', 'create', 'viv', '--scope', 'admin:read')).toMatchObject({ name: 'viv', scope: 'admin:read' });
    lk.createClient('dev-1', 'mqtt:publish:a');
    expect(await refused(4, 'user', 'create', 'dev-1')).toMatch(/already exists/);
    expect(await refused(4, 'apikey', 'create', 'uma', '--scope', 'admin:read')).toMatch(/already exists/);
    expect(await refused(2, 'user', 'create', 'bad/name')).toMatch(/invalid user name/);
    expect(await refused(2, 'user', 'create', 'wendy', '--scope', '')).toMatch(/scope/);
    expect((await json('user', 'list')).users.map((u: { name: string }) => u.name)).toEqual(['uma', 'viv']);
  });

  test('pat create: {id, token, expires_at}; 30 days by default, "never" only when asked', async () => {
    const made = await json('pat', 'create', 'uma', '--name', 'laptop', '--scope', 'admin:read');
    expect(Object.keys(made).sort()).toEqual(['expires_at', 'id', 'token']);
    expect(made.token).toMatch(/^lk_pat_[0-9A-Za-z]{38}$/);
    const days = (Date.parse(made.expires_at) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.99);
    expect(days).toBeLessThan(30.01);
    expect((await json('pat', 'create', 'uma', '--name', 'ci', '--scope', 'admin:read', '--expires-in', 'never')).expires_at).toBeNull();
    const week = await json('pat', 'create', 'uma', '--name', 'week', '--scope', 'admin:read', '--expires-in', '7d');
    expect(Math.round((Date.parse(week.expires_at) - Date.now()) / 86_400_000)).toBe(7);
    expect(await adminGet(made.token)).toBe(200);
  });

  test('a PAT\'s scopes never exceed its user\'s: refused, nothing created', async () => {
    const before = (await json('pat', 'list', '--user', 'viv')).tokens.length;
    expect(await refused(2, 'pat', 'create', 'viv', '--name', 'x', '--scope', 'admin:write')).toMatch(/may not hold admin:write/);
    expect(await refused(2, 'pat', 'create', 'viv', '--name', 'x', '--scope', 'admin:read mqtt:subscribe:#')).toMatch(/may not hold mqtt:subscribe:#/);
    expect((await json('pat', 'list', '--user', 'viv')).tokens).toHaveLength(before);
    expect((await json('pat', 'create', 'viv', '--name', 'x', '--scope', 'admin:read')).token).toMatch(/^lk_pat_/);
  });

  test.each([
    ['unknown user', 3, ['pat', 'create', 'nobody', '--name', 'x', '--scope', 'admin:read']],
    ['no --scope', 2, ['pat', 'create', 'uma', '--name', 'x']],
    ['no --name', 2, ['pat', 'create', 'uma', '--scope', 'admin:read']],
    ['bad --expires-in', 2, ['pat', 'create', 'uma', '--name', 'x', '--scope', 'admin:read', '--expires-in', 'forever']],
    ['zero --expires-in', 2, ['pat', 'create', 'uma', '--name', 'x', '--scope', 'admin:read', '--expires-in', '0']],
    ['bad scope', 2, ['pat', 'create', 'uma', '--name', 'x', '--scope', 'mqtt:publish:a/#/b']],
    ['label in use', 4, ['pat', 'create', 'uma', '--name', 'laptop', '--scope', 'admin:read']],
    ['unknown id', 3, ['pat', 'revoke', 'pat_doesnotexist']],
    ['list of unknown user', 3, ['pat', 'list', '--user', 'nobody']],
  ] as const)('%s: one error line, exit %i', async (_name, code, args) => {
    await refused(code, ...args);
  });

  test('pat list shows name, scopes, created, expires, last used; never a token', async () => {
    const made = await json('pat', 'create', 'uma', '--name', 'listed', '--scope', 'admin:read');
    expect(await adminGet(made.token)).toBe(200);
    const human = await lk.cli('pat', 'list', '--user', 'uma');
    const machine = await lk.cli('pat', 'list', '--user', 'uma', '--json');
    for (const out of [human.stdout, machine.stdout]) {
      expect(out).not.toContain(made.token);
      expect(out).not.toMatch(/lk_pat_[0-9A-Za-z]{20}/);
    }
    const listed = (JSON.parse(machine.stdout).tokens as { id: string }[]).find((t) => t.id === made.id);
    expect(listed).toMatchObject({ name: 'listed', user: 'uma', scope: 'admin:read', prefix: 'lk_pat_', last4: made.token.slice(-4), status: 'active', expires_at: made.expires_at });
    expect(listed).toHaveProperty('created_at');
    expect(Date.now() - Date.parse((listed as unknown as { last_used_at: string }).last_used_at)).toBeLessThan(10_000);
    expect(human.stdout).toContain('listed');
    expect(human.stdout).toContain('127.0.0.1');
  });

  test('pat revoke from the CLI (another process) stops the token over HTTP and ends its MQTT session within 1 s', async () => {
    const made = await json('pat', 'create', 'uma', '--name', 'mqtt', '--scope', 'mqtt:subscribe:home/#');
    const other = await json('pat', 'create', 'uma', '--name', 'other', '--scope', 'admin:read');
    const client = await connect(lk.mqttUrl, { clientId: 'uma@phone', username: 'uma', password: made.token });
    const revoked = await json('pat', 'revoke', made.id);
    // Committed by the time the CLI returns; from then the server has its poll interval and the rest of the second.
    const committedAt = Date.now();
    expect(revoked).toEqual({ id: made.id, user: 'uma', revoked: true, already_revoked: false });
    await closedWithin(client, 1000, committedAt);
    expect(await refusalCode(connect(lk.mqttUrl, { clientId: 'uma', username: 'uma', password: made.token }))).toBe(5);
    expect(await adminGet(other.token)).toBe(200);
    expect((await json('pat', 'revoke', made.id)).already_revoked).toBe(true);
  });

  test('user disable stops every token of the user and ends their sessions', async () => {
    await json('user', 'create', 'xena', '--scope', 'admin:read mqtt:subscribe:home/#');
    const a = await json('pat', 'create', 'xena', '--name', 'a', '--scope', 'admin:read');
    const b = await json('pat', 'create', 'xena', '--name', 'b', '--scope', 'mqtt:subscribe:home/#');
    const client = await connect(lk.mqttUrl, { clientId: 'xena@b', username: 'xena', password: b.token });
    const disabled = await json('user', 'disable', 'xena');
    const committedAt = Date.now();
    expect(disabled.status).toBe('disabled');
    await closedWithin(client, 1000, committedAt);
    expect(await adminGet(a.token)).toBe(401);
    expect(await refused(4, 'pat', 'create', 'xena', '--name', 'c', '--scope', 'admin:read')).toMatch(/disabled/);
  });
});

describe('latchkey apikey (docs/INTERFACE.md#people-and-integrations)', { timeout: spawnTimeout(7) }, () => {
  test('create {id, key}; list by prefix and last four, never the key', async () => {
    const made = await json('apikey', 'create', 'dashboard', '--scope', 'admin:read');
    expect(made).toEqual({ id: 'dashboard', key: expect.stringMatching(/^lk_key_[0-9A-Za-z]{38}$/) });
    const human = await lk.cli('apikey', 'list');
    const machine = await lk.cli('apikey', 'list', '--json');
    for (const out of [human.stdout, machine.stdout]) expect(out).not.toContain(made.key);
    expect(human.stdout).toContain(`lk_key_…${made.key.slice(-4)}`);
    const listed = JSON.parse(machine.stdout).api_keys.find((k: { id: string }) => k.id === 'dashboard');
    expect(listed).toMatchObject({ scope: 'admin:read', status: 'enabled', prefix: 'lk_key_', last4: made.key.slice(-4), secrets: [{ prefix: 'lk_key_', last4: made.key.slice(-4), expires_at: null }] });
    expect(await refused(2, 'apikey', 'create', 'nokey')).toMatch(/--scope/);
  });

  test('roll prints the new key; the old one works during the grace, not after', async () => {
    const { key: old } = await json('apikey', 'create', 'bridge', '--scope', 'admin:read');
    // The grace must outlast what the test does inside it (two CLI processes at 2-4 s each on a loaded machine).
    const rolled = await json('apikey', 'roll', 'bridge', '--grace', '10s');
    expect(rolled).toMatchObject({ id: 'bridge', key: expect.stringMatching(/^lk_key_/) });
    expect(rolled.key).not.toBe(old);
    expect(await adminGet(old)).toBe(200);
    expect(await adminGet(rolled.key)).toBe(200);
    expect(JSON.parse((await lk.cli('apikey', 'list', '--json')).stdout).api_keys.find((k: { id: string }) => k.id === 'bridge').secrets).toHaveLength(2);
    await sleep(Math.max(0, Date.parse(rolled.previous_expires_at) - Date.now()) + 50);
    expect(await adminGet(old)).toBe(401);
    expect(await adminGet(rolled.key)).toBe(200);
    const text = await lk.cli('apikey', 'roll', 'bridge');
    expect(text.stdout).toMatch(/key: lk_key_[0-9A-Za-z]{38}/);
    expect(await refused(2, 'apikey', 'roll', 'bridge', '--grace', 'soon')).toMatch(/invalid duration/);
    expect(await refused(3, 'apikey', 'roll', 'ghost')).toMatch(/no API key/);
  });

  test('delete stops the key at once', async () => {
    const { key } = await json('apikey', 'create', 'temp-key', '--scope', 'admin:read');
    expect(await adminGet(key)).toBe(200);
    expect(await json('apikey', 'delete', 'temp-key')).toEqual({ id: 'temp-key', name: 'temp-key', deleted: true });
    expect(await adminGet(key)).toBe(401);
    expect(await refused(3, 'apikey', 'delete', 'temp-key')).toMatch(/no API key/);
  });
});

describe('latchkey explain for people and integrations', { timeout: spawnTimeout(7) }, () => {
  test('a user and an API key are explained from their own scopes', async () => {
    await json('user', 'create', 'ed', '--scope', 'mqtt:subscribe:people/{client_id}/#');
    await json('apikey', 'create', 'dash', '--scope', 'mqtt:subscribe:home/+/telemetry');
    expect(await json('explain', 'ed', 'subscribe', 'people/ed/inbox')).toEqual({ allow: true, reason: 'allowed by mqtt:subscribe:people/{client_id}/#', scope: 'mqtt:subscribe:people/{client_id}/#' });
    expect((await json('explain', 'ed', 'subscribe', 'people/al/inbox')).allow).toBe(false);
    expect((await json('explain', 'dash', 'subscribe', 'home/t1/telemetry')).allow).toBe(true);
    expect((await json('explain', 'dash', 'publish', 'home/t1/setpoint')).allow).toBe(false);
    expect(await refused(3, 'explain', 'nobody', 'publish', 'a/b')).toMatch(/no client, user or API key "nobody"/);
  });
});
