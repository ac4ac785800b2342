import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { AuditLog } from '../../src/audit/audit_log.js';
import { createLogger } from '../../src/log/logger.js';
import { ApiKeyRegistry } from '../../src/registry/api_keys.js';
import { ClientRegistry } from '../../src/registry/clients.js';
import { CredentialRefusal } from '../../src/registry/credential_refusal.js';
import { LastUseRecorder } from '../../src/registry/last_use.js';
import { PatRegistry } from '../../src/registry/personal_access_tokens.js';
import { UserRegistry } from '../../src/registry/users.js';
import { SCHEMA_VERSION } from '../../src/store/migrations.js';
import { Store } from '../../src/store/store.js';

let store: Store;
let audit: AuditLog;
let users: UserRegistry;
let pats: PatRegistry;
let apiKeys: ApiKeyRegistry;

beforeEach(() => {
  store = Store.open(':memory:');
  audit = new AuditLog(store, createLogger('silent'));
  users = new UserRegistry(store, audit);
  pats = new PatRegistry(store, audit);
  apiKeys = new ApiKeyRegistry(store, audit);
});
afterEach(() => store.close());

function refusal(work: () => unknown): string {
  try {
    work();
  } catch (err) {
    if (err instanceof CredentialRefusal) return `${err.code}: ${err.message}`;
    throw err;
  }
  throw new Error('not refused');
}

describe('store', () => {
  test('migration 3 creates the tables; names are unique across clients, users and API keys', () => {
    expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    new ClientRegistry(store, audit, 600).create({ id: 'dev', scope: 'mqtt:publish:a' }, 'test');
    users.create({ name: 'ann' }, 'test');
    apiKeys.create({ name: 'bot', scope: 'admin:read' }, 'test');
    for (const name of ['dev', 'ann', 'bot']) expect(store.nameTaken(name)).toBe(true);
    expect(store.nameTaken('nobody')).toBe(false);
    expect(() => users.create({ name: 'bot' }, 'test')).toThrow(expect.objectContaining({ code: 'already_exists' }));
    expect(() => apiKeys.create({ name: 'ann', scope: 'admin:read' }, 'test')).toThrow(expect.objectContaining({ code: 'already_exists' }));
    expect(() => new ClientRegistry(store, audit, 600).create({ id: 'ann', scope: 'mqtt:publish:a' }, 'test')).toThrow(
      expect.objectContaining({ code: 'already_exists' }),
    );
  });

  test('every change lands on the change feed as a principal change', () => {
    const before = store.changes.lastId();
    users.create({ name: 'ann' }, 'test');
    const { id } = pats.create({ user: 'ann', name: 'a', scope: 'admin:read' }, 'test');
    pats.revoke(id, 'test');
    apiKeys.create({ name: 'bot', scope: 'admin:read' }, 'test');
    apiKeys.roll('bot', 60, 'test');
    apiKeys.delete('bot', 'test');
    users.setStatus('ann', 'disabled', 'test');
    expect(store.changes.since(before).map((c) => `${c.kind}:${c.subject}`)).toEqual([
      'principal:ann',
      'principal:ann',
      'principal:ann',
      'principal:bot',
      'principal:bot',
      'principal:bot',
      // A deletion also tells the server to forget the key's persistent MQTT sessions.
      'principal_deleted:bot',
      'principal:ann',
    ]);
  });
});

describe('personal access tokens', () => {
  test.each([
    ['admin:read within admin:write', 'admin:write', 'admin:read', true],
    ['admin:write beyond admin:read', 'admin:read', 'admin:write', false],
    ['a narrower filter', 'mqtt:subscribe:home/#', 'mqtt:subscribe:home/+/telemetry', true],
    ['a wider filter', 'mqtt:subscribe:home/+/telemetry', 'mqtt:subscribe:home/#', false],
    ['{client_id} is the user', 'mqtt:publish:users/{client_id}/#', 'mqtt:publish:users/ann/inbox', true],
    ['another user\'s topic', 'mqtt:publish:users/{client_id}/#', 'mqtt:publish:users/bob/inbox', false],
    ['publish is not subscribe', 'mqtt:publish:#', 'mqtt:subscribe:a', false],
  ])('scope ceiling: %s', (_name, userScope, patScope, allowed) => {
    users.create({ name: 'ann', scope: userScope }, 'test');
    const attempt = () => pats.create({ user: 'ann', name: 'x', scope: patScope }, 'test');
    if (allowed) expect(attempt().token).toMatch(/^lk_pat_/);
    else expect(attempt).toThrow(expect.objectContaining({ code: 'invalid_scope' }));
  });

  test('verify: each refusal names its reason; a good token names its user', () => {
    users.create({ name: 'ann' }, 'test');
    const good = pats.create({ user: 'ann', name: 'good', scope: 'admin:read' }, 'test');
    expect(pats.verify(good.token, '10.0.0.1')).toMatchObject({ user: { name: 'ann' }, pat: { id: good.id } });
    const revoked = pats.create({ user: 'ann', name: 'revoked', scope: 'admin:read' }, 'test');
    pats.revoke(revoked.id, 'test');
    const other = apiKeys.create({ name: 'bot', scope: 'admin:read' }, 'test');
    expect(refusal(() => pats.verify(`${good.token.slice(0, -1)}${good.token.endsWith('a') ? 'b' : 'a'}`, null))).toBe(
      'malformed: malformed personal access token: checksum',
    );
    expect(refusal(() => pats.verify(other.key, null))).toBe('malformed: malformed personal access token: prefix');
    expect(refusal(() => pats.verify('lk_pat_short', null))).toBe('malformed: malformed personal access token: length');
    expect(refusal(() => pats.verify(revoked.token, null))).toBe(`revoked: personal access token revoked: ${revoked.id}`);
    users.setStatus('ann', 'disabled', 'test');
    expect(refusal(() => pats.verify(good.token, null))).toBe('disabled: user disabled: ann');
  });

  test('list never carries a token or its hash', () => {
    users.create({ name: 'ann' }, 'test');
    const made = pats.create({ user: 'ann', name: 'x', scope: 'admin:read' }, 'test');
    const listed = JSON.stringify(pats.list());
    expect(listed).not.toContain(made.token);
    expect(listed).not.toContain('hash');
    expect(pats.list('ann')[0]).toMatchObject({ prefix: 'lk_pat_', last4: made.token.slice(-4) });
  });

  test('currentExpiry: the expiry in seconds, Infinity for never, null once revoked', () => {
    users.create({ name: 'ann' }, 'test');
    const a = pats.create({ user: 'ann', name: 'a', scope: 'admin:read', expiresIn: 60 }, 'test');
    const b = pats.create({ user: 'ann', name: 'b', scope: 'admin:read', expiresIn: 'never' }, 'test');
    expect(pats.currentExpiry(a.id)).toBe(Date.parse(a.expires_at!) / 1000);
    expect(pats.currentExpiry(b.id)).toBe(Infinity);
    pats.revoke(a.id, 'test');
    expect(pats.currentExpiry(a.id)).toBeNull();
  });
});

describe('API keys', () => {
  test('roll with grace 0 stops the old key at once; currentExpiry follows', () => {
    const { key: old } = apiKeys.create({ name: 'bot', scope: 'admin:read' }, 'test');
    const oldId = apiKeys.verify(old, null).secret.id;
    expect(apiKeys.currentExpiry(oldId)).toBe(Infinity);
    const rolled = apiKeys.roll('bot', 0, 'test');
    expect(refusal(() => apiKeys.verify(old, null))).toMatch(/^expired: /);
    expect(apiKeys.verify(rolled.key, null).key.name).toBe('bot');
    expect(apiKeys.show('bot').secrets).toHaveLength(1);
    apiKeys.delete('bot', 'test');
    expect(apiKeys.currentExpiry(oldId)).toBeNull();
    expect(refusal(() => apiKeys.verify(rolled.key, null))).toBe('unknown: unknown API key');
  });

  test('a rolled key\'s grace end is its expiry', () => {
    const { key: old } = apiKeys.create({ name: 'bot', scope: 'admin:read' }, 'test');
    const oldId = apiKeys.verify(old, null).secret.id;
    const rolled = apiKeys.roll('bot', 3600, 'test');
    expect(apiKeys.currentExpiry(oldId)).toBe(Date.parse(rolled.previous_expires_at) / 1000);
    expect(apiKeys.show('bot').secrets.map((s) => s.expires_at)).toEqual([null, rolled.previous_expires_at]);
  });
});

describe('LastUseRecorder', () => {
  test.each([
    ['first use', [['a', 0]], [true]],
    ['again within the interval', [['a', 0], ['a', 59_999]], [true, false]],
    ['again after the interval', [['a', 0], ['a', 60_000]], [true, true]],
    ['credentials are independent', [['a', 0], ['b', 1]], [true, true]],
  ] as const)('%s', (_name, uses, expected) => {
    const recorder = new LastUseRecorder(60_000);
    expect(uses.map(([id, at]) => recorder.due(id, at))).toEqual(expected);
  });
});
