import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isUniqueViolation } from '../../src/store/sql.js';
import { Store } from '../../src/store/store.js';
import type { ClientRecord } from '../../src/store/clients.js';
import { tempDir } from '../helpers/cli.js';
import { havePostgres, postgresDatabase } from '../helpers/services.js';

/**
 * The storage contract: every table behaves the same on SQLite and on
 * PostgreSQL (`--store postgres://…`). One suite, run against both.
 */
interface Opened {
  /** The store under test, listening for changes made elsewhere as a server does. */
  store: Store;
  /** Another connection to the same database (another node, or the CLI). */
  second(): Store;
  cleanup(): Promise<void>;
}

const backends: { name: string; available: boolean; open(): Promise<Opened> }[] = [
  {
    name: 'SQLite',
    available: true,
    async open() {
      const dir = tempDir();
      const file = join(dir, 'latchkey.db');
      const store = Store.open(file);
      const others: Store[] = [];
      return {
        store,
        second: () => {
          const other = Store.open(file);
          others.push(other);
          return other;
        },
        async cleanup() {
          for (const s of [store, ...others]) s.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'PostgreSQL',
    available: havePostgres(),
    async open() {
      const db = await postgresDatabase();
      const store = Store.open(db.url);
      await store.listen();
      const others: Store[] = [];
      return {
        store,
        second: () => {
          const other = Store.open(db.url);
          others.push(other);
          return other;
        },
        async cleanup() {
          for (const s of [store, ...others]) s.close();
          await db.drop();
        },
      };
    },
  },
];

const NOW = 1_800_000_000_000;

function client(id: string, overrides: Partial<ClientRecord> = {}): ClientRecord {
  return {
    id,
    scope: 'mqtt:publish:a/#',
    tokenTtl: 600,
    authMethod: 'client_secret_basic',
    publicJwk: null,
    status: 'enabled',
    incarnation: `inc-${id}`,
    createdAt: NOW,
    updatedAt: NOW,
    ...overrides,
  };
}

async function waitFor(check: () => boolean, ms: number, what: string): Promise<number> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`${what} not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return Date.now() - start;
}

describe.each(backends)('storage contract on $name', ({ name, available, open }) => {
  const suite = available ? describe : describe.skip;
  suite(name === 'PostgreSQL' ? 'with a real PostgreSQL (skipped without PostgreSQL)' : 'with a SQLite file', () => {
    let opened: Opened;
    let store: Store;
    beforeEach(async () => {
      opened = await open();
      store = opened.store;
    });
    afterEach(async () => {
      await opened.cleanup();
    });

    it('clients: insert, get, list, scope, status, auth method, delete', () => {
      store.durably(() => {
        store.clients.insert(client('b'));
        store.clients.insert(client('a', { tokenTtl: 3600 }));
      });
      expect(store.clients.get('a')).toEqual({ ...client('a', { tokenTtl: 3600 }), credentialsNotBefore: null });
      expect(store.clients.get('nope')).toBeUndefined();
      expect(store.clients.list().map((c) => c.id)).toEqual(['a', 'b']);
      expect(store.longestTokenTtl()).toBe(3600);
      expect(store.nameTaken('a')).toBe(true);
      expect(store.nameTaken('zz')).toBe(false);
      expect(store.clients.setScope('a', 'mqtt:subscribe:x')).toBe(true);
      expect(store.clients.setStatus('a', 'disabled')).toBe(true);
      expect(store.clients.setStatus('missing', 'disabled')).toBe(false);
      expect(store.clients.setAuthMethod('a', 'private_key_jwt', '{"kty":"EC"}', NOW + 5)).toBe(true);
      const a = store.clients.get('a')!;
      expect(a).toMatchObject({ scope: 'mqtt:subscribe:x', status: 'disabled', authMethod: 'private_key_jwt', publicJwk: '{"kty":"EC"}', credentialsNotBefore: NOW + 5 });
      // COALESCE keeps the earlier floor when none is given.
      store.clients.setAuthMethod('a', 'client_secret_post', null, null);
      expect(store.clients.get('a')!.credentialsNotBefore).toBe(NOW + 5);
      expect(store.clients.delete('a')).toBe(true);
      expect(store.clients.get('a')).toBeUndefined();
    });

    it('client secrets: replace with grace, valid at a time, grace ends, cascade on delete', () => {
      store.clients.insert(client('c'));
      store.clients.replaceSecret('c', Buffer.from('first'), NOW, NOW);
      store.clients.replaceSecret('c', Buffer.from('second'), NOW + 60_000, NOW + 1);
      const valid = store.clients.validSecrets('c', NOW + 2);
      expect(valid.map((s) => s.hash.toString())).toEqual(['first', 'second']);
      expect(Buffer.isBuffer(valid[0]!.hash)).toBe(true);
      expect(valid[0]!.notAfter).toBe(NOW + 60_000);
      expect(store.clients.validSecrets('c', NOW + 60_000).map((s) => s.hash.toString())).toEqual(['second']);
      expect(store.clients.graceEnds('c', NOW + 2)).toEqual({ ended: null, ends: NOW + 60_000 });
      expect(store.clients.graceEnds('c', NOW + 70_000)).toEqual({ ended: NOW + 60_000, ends: null });
      expect(store.clients.graceEnds('nobody', NOW)).toEqual({ ended: null, ends: null });
      store.clients.delete('c');
      expect(store.clients.validSecrets('c', NOW)).toEqual([]);
      store.clients.insert(client('d'));
      store.clients.replaceSecret('d', Buffer.from('x'), NOW, NOW);
      expect(store.clients.deleteSecrets('d')).toBe(1);
    });

    it('certificates: insert, by serial, by client, revoke, revoke all of a client', () => {
      const cert = (serial: string, clientId: string, createdAt: number) => ({
        issuer: 'CN=ca',
        serial,
        clientId,
        fingerprint: `fp-${serial}`,
        notBefore: NOW,
        notAfter: NOW + 1000,
        createdAt,
      });
      store.certificates.insert(cert('01', 'dev1', NOW));
      store.certificates.insert(cert('02', 'dev1', NOW + 1));
      store.certificates.insert(cert('03', 'dev2', NOW + 2));
      expect(store.certificates.bySerial('02')).toEqual({ ...cert('02', 'dev1', NOW + 1), revokedAt: null });
      expect(store.certificates.bySerial('ff')).toBeUndefined();
      expect(store.certificates.list().map((c) => c.serial)).toEqual(['03', '02', '01']);
      expect(store.certificates.list('dev1').map((c) => c.serial)).toEqual(['02', '01']);
      expect(store.certificates.revoke('03', NOW + 5)).toBe(true);
      expect(store.certificates.revoke('03', NOW + 6)).toBe(false);
      expect(store.certificates.revokeAllOf('dev1', NOW + 7).sort()).toEqual(['01', '02']);
      expect(store.certificates.revoked().map((c) => c.serial).sort()).toEqual(['01', '02', '03']);
      expect(store.certificates.bySerial('03')!.revokedAt).toBe(NOW + 5);
    });

    it('users, personal access tokens and API keys', () => {
      store.users.insert({ name: 'alice', scope: 'admin:read', status: 'enabled', createdAt: NOW, updatedAt: NOW });
      expect(store.users.get('alice')).toMatchObject({ name: 'alice', scope: 'admin:read', status: 'enabled' });
      expect(store.users.setStatus('alice', 'disabled', NOW + 1)).toBe(true);
      expect(store.users.setScope('alice', 'admin:write', NOW + 2)).toBe(true);
      expect(store.users.list()).toEqual([{ name: 'alice', scope: 'admin:write', status: 'disabled', createdAt: NOW, updatedAt: NOW + 2 }]);
      const pat = { id: 'pat_1', user: 'alice', name: 'laptop', hash: Buffer.from('h1'), last4: 'abcd', scope: 'admin:read', createdAt: NOW, expiresAt: null };
      store.personalAccessTokens.insert(pat);
      expect(store.personalAccessTokens.byHash(Buffer.from('h1'))).toEqual({ ...pat, revokedAt: null, lastUsedAt: null, lastUsedAddr: null });
      store.personalAccessTokens.touch('pat_1', NOW + 3, '10.0.0.1');
      expect(store.personalAccessTokens.byId('pat_1')).toMatchObject({ lastUsedAt: NOW + 3, lastUsedAddr: '10.0.0.1' });
      expect(store.personalAccessTokens.revoke('pat_1', NOW + 4)).toBe(true);
      expect(store.personalAccessTokens.revoke('pat_1', NOW + 5)).toBe(false);
      expect(store.personalAccessTokens.list('alice').map((p) => p.id)).toEqual(['pat_1']);
      expect(store.users.delete('alice')).toBe(true);
      expect(store.personalAccessTokens.list()).toEqual([]);

      store.apiKeys.insert({ name: 'ci', scope: 'admin:read', status: 'enabled', createdAt: NOW, updatedAt: NOW });
      store.apiKeys.replaceSecret({ id: 'key_1', keyName: 'ci', hash: Buffer.from('k1'), last4: '1111', createdAt: NOW }, NOW, NOW);
      store.apiKeys.replaceSecret({ id: 'key_2', keyName: 'ci', hash: Buffer.from('k2'), last4: '2222', createdAt: NOW + 1 }, NOW + 100, NOW + 1);
      expect(store.apiKeys.validSecrets('ci', NOW + 2).map((s) => s.id)).toEqual(['key_2', 'key_1']);
      expect(store.apiKeys.secretByHash(Buffer.from('k1'))).toMatchObject({ id: 'key_1', keyName: 'ci', notAfter: NOW + 100 });
      store.apiKeys.touch('key_2', NOW + 3, null);
      expect(store.apiKeys.secretById('key_2')).toMatchObject({ lastUsedAt: NOW + 3, lastUsedAddr: null });
      expect(store.apiKeys.setStatus('ci', 'disabled', NOW + 4)).toBe(true);
      expect(store.apiKeys.get('ci')!.status).toBe('disabled');
      expect(store.nameTaken('ci')).toBe(true);
      expect(store.apiKeys.delete('ci')).toBe(true);
      expect(store.apiKeys.secretById('key_2')).toBeUndefined();
    });

    it('static MQTT passwords: replace, valid, revoke all, clients with one', () => {
      store.clients.insert(client('plug'));
      store.staticPasswords.replace({ id: 'mqp_1', clientId: 'plug', hash: Buffer.from('p1'), last4: 'p111', createdAt: NOW }, NOW, NOW);
      expect(store.staticPasswords.valid('plug', NOW + 1).map((p) => p.id)).toEqual(['mqp_1']);
      expect(store.staticPasswords.clientsWithPassword(NOW + 1)).toEqual(new Set(['plug']));
      expect(store.staticPasswords.revokeAll('plug', NOW + 2)).toBe(1);
      expect(store.staticPasswords.byHash(Buffer.from('p1'))).toMatchObject({ revokedAt: NOW + 2, notAfter: NOW + 2 });
      expect(store.staticPasswords.valid('plug', NOW + 3)).toEqual([]);
    });

    it('revocations: insert once, has, unexpired, prune', () => {
      expect(store.revocations.insert('jti-1', 100, 'dev1', NOW)).toBe(true);
      expect(store.revocations.insert('jti-1', 100, 'dev1', NOW)).toBe(false);
      store.revocations.insert('jti-2', 300, null, NOW);
      expect(store.revocations.has('jti-1')).toBe(true);
      expect(store.revocations.has('jti-9')).toBe(false);
      expect(store.revocations.unexpired(200)).toEqual([{ jti: 'jti-2', exp: 300 }]);
      expect(store.revocations.prune(200)).toBe(1);
      expect(store.revocations.has('jti-1')).toBe(false);
    });

    it('signing keys: insert, published, retire, sealed private half, prune', () => {
      store.signingKeys.insert('k1', '{"d":"1"}', '{"x":"1"}', NOW);
      store.signingKeys.retireCurrent(NOW + 10, NOW + 1000);
      store.signingKeys.insert('k2', '{"d":"2"}', '{"x":"2"}', NOW + 10);
      expect(store.signingKeys.published(NOW + 20).map((k) => k.kid)).toEqual(['k2', 'k1']);
      expect(store.signingKeys.published(NOW + 2000).map((k) => k.kid)).toEqual(['k2']);
      store.signingKeys.setPrivate('k2', 'sealed');
      expect(store.signingKeys.all()[0]).toEqual({ kid: 'k2', privateJwk: 'sealed', publicJwk: '{"x":"2"}', createdAt: NOW + 10, retiredAt: null, publishUntil: null });
      store.signingKeys.prune(NOW + 2000);
      expect(store.signingKeys.all().map((k) => k.kid)).toEqual(['k2']);
    });

    it('templates, claims (consumed atomically, used up, revoked), provisioned clients, renewals', () => {
      store.templates.insert({ name: 'plugs', scope: 'mqtt:publish:{client_id}/#', idPrefix: 'plug-', certDays: 30, auth: 'cert', createdAt: NOW });
      expect(store.templates.get('plugs')).toMatchObject({ idPrefix: 'plug-', certDays: 30, auth: 'cert' });
      const claim = { id: 'clm_1', template: 'plugs', hash: Buffer.from('c1'), last4: 'c111', uses: 2, expiresAt: NOW + 1000, createdAt: NOW, createdBy: 'cli' };
      store.claims.insert(claim);
      expect(store.claims.byHash(Buffer.from('c1'))).toEqual({ ...claim, used: 0, revokedAt: null });
      expect(store.claims.consume('clm_1', NOW + 1)).toBe(true);
      expect(store.claims.consume('clm_1', NOW + 1)).toBe(true);
      expect(store.claims.consume('clm_1', NOW + 1)).toBe(false);
      store.claims.insert({ ...claim, id: 'clm_2', hash: Buffer.from('c2') });
      expect(store.claims.consume('clm_2', NOW + 2000)).toBe(false);
      expect(store.claims.revoke('clm_2', NOW)).toBe(true);
      expect(store.claims.list().map((c) => c.id).sort()).toEqual(['clm_1', 'clm_2']);
      store.clients.insert(client('plug-1'));
      store.provisionedClients.insert({ clientId: 'plug-1', template: 'plugs', claimId: 'clm_1', provisionedBy: 'hub', createdAt: NOW });
      expect(store.provisionedClients.byHub('hub')).toEqual([{ clientId: 'plug-1', template: 'plugs', claimId: 'clm_1', provisionedBy: 'hub', createdAt: NOW }]);
      store.certificateRenewals.insert({ serial: 'aa', replaces: 'bb', clientId: 'plug-1', createdAt: NOW });
      expect(store.certificateRenewals.markFirstUse('aa', NOW + 1)).toBe(true);
      expect(store.certificateRenewals.markFirstUse('aa', NOW + 2)).toBe(false);
      expect(store.certificateRenewals.get('aa')!.firstUsedAt).toBe(NOW + 1);
      expect(store.templates.delete('plugs')).toBe(true);
      expect(store.claims.list()).toEqual([]);
    });

    it('audit: insert a batch, query newest first with filters, tail after an id, count, prune in slices', () => {
      const event = (at: number, principal: string, count?: number) => ({
        at,
        event: 'token.issued',
        principal,
        outcome: 'success' as const,
        reason: null,
        remote: '127.0.0.1',
        detail: { jti: `j${at}` },
        ...(count ? { count } : {}),
      });
      store.audit.insertMany([event(NOW, 'a'), event(NOW + 1, 'b', 7), event(NOW + 2, 'a')], 100);
      expect(store.audit.query({ limit: 10 }).map((e) => e.at)).toEqual([NOW + 2, NOW + 1, NOW]);
      expect(store.audit.query({ principal: 'a', since: NOW + 1, limit: 10 })).toEqual([{ ...event(NOW + 2, 'a'), count: 1 }]);
      expect(store.audit.query({ event: 'token.issued', until: NOW + 1, limit: 1 })[0]).toMatchObject({ at: NOW + 1, count: 7 });
      const last = store.audit.lastId();
      expect(last).toBeGreaterThan(0);
      expect(store.audit.after(last - 1, 10).map((e) => e.at)).toEqual([NOW + 2]);
      expect(store.audit.prune(NOW + 2, 1)).toBe(1);
      expect(store.audit.prune(NOW + 2, 1)).toBe(1);
      expect(store.audit.prune(NOW + 2, 1)).toBe(0);
      expect(store.audit.query({ limit: 10 }).length).toBe(1);
    });

    it('changes: append, since, lastId, prune', () => {
      const before = store.changes.lastId();
      store.changes.append('client', 'dev1');
      store.changes.append('token_revoked', 'jti-1');
      const since = store.changes.since(before);
      expect(since.map((c) => [c.kind, c.subject])).toEqual([
        ['client', 'dev1'],
        ['token_revoked', 'jti-1'],
      ]);
      expect(store.changes.lastId()).toBe(since[1]!.id);
      expect(store.changes.since(since[1]!.id)).toEqual([]);
      store.changes.prune(-60_000);
      expect(store.changes.since(before)).toEqual([]);
    });

    it('live sessions: heartbeat, batches, fresh instances only, stale ones dropped', () => {
      const instance = { instance: 'i1', host: 'h', pid: 1, startedAt: NOW };
      expect(store.liveSessions.heartbeat(instance, NOW)).toBe(false);
      expect(store.liveSessions.heartbeat(instance, NOW + 1)).toBe(true);
      const session = {
        instance: 'i1',
        clientId: 'dev1',
        principal: 'dev1',
        kind: 'client',
        method: 'jwt',
        credentialId: 'jti',
        remote: null,
        connectedAt: NOW,
        expiresAt: null,
        subscriptions: ['a/#'],
      };
      store.liveSessions.applyBatch('i1', [session, { ...session, clientId: 'dev1@x' }], []);
      expect(store.liveSessions.list(NOW - 1).map((s) => s.clientId)).toEqual(['dev1', 'dev1@x']);
      expect(store.liveSessions.byClientId('dev1', NOW - 1)).toEqual([session]);
      expect(store.liveSessions.countByPrincipal('dev1', NOW - 1)).toBe(2);
      store.liveSessions.applyBatch('i1', [], ['dev1@x']);
      expect(store.liveSessions.list(NOW - 1, 'dev1').length).toBe(1);
      expect(store.liveSessions.list(NOW + 5)).toEqual([]);
      expect(store.liveSessions.dropStale(NOW + 5)).toBe(1);
      expect(store.liveSessions.list(0)).toEqual([]);
    });

    it('issued tokens: batch insert (duplicates ignored), live and unrevoked, prune', () => {
      const token = (jti: string, iat: number, exp: number) => ({ jti, clientId: 'dev1', iat, exp, channel: 'http', scope: 's', bound: jti === 't2' });
      store.issuedTokens.insertMany([token('t1', 10, 100), token('t2', 20, 200), token('t1', 10, 100)]);
      store.revocations.insert('t1', 100, 'dev1', NOW);
      expect(store.issuedTokens.live(50, null, 10)).toEqual([token('t2', 20, 200)]);
      expect(store.issuedTokens.live(50, 'other', 10)).toEqual([]);
      expect(store.issuedTokens.prune(150)).toBe(1);
    });

    it('assertion jtis and console logins: single use', () => {
      expect(store.assertionJtis.use('dev1', 'a', 100, 50)).toBe(true);
      expect(store.assertionJtis.use('dev1', 'a', 100, 50)).toBe(false);
      expect(store.assertionJtis.use('dev2', 'a', 100, 50)).toBe(true);
      store.consoleLogins.add(Buffer.from('link'), 'alice', NOW, NOW + 1000);
      expect(store.consoleLogins.redeem(Buffer.from('link'), NOW + 1)).toEqual({ user: 'alice' });
      expect(store.consoleLogins.redeem(Buffer.from('link'), NOW + 2)).toBeNull();
      store.consoleLogins.add(Buffer.from('op'), null, NOW, NOW + 1000);
      expect(store.consoleLogins.redeem(Buffer.from('op'), NOW + 1)).toEqual({ user: null });
    });

    it('transactions: a throw rolls everything back; a nested one rolls back alone', () => {
      expect(() =>
        store.durably(() => {
          store.clients.insert(client('t1'));
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(store.clients.get('t1')).toBeUndefined();
      store.durably(() => {
        store.clients.insert(client('outer'));
        try {
          store.db.transaction(() => {
            store.clients.insert(client('inner'));
            throw new Error('inner fails');
          })();
        } catch {
          // The outer transaction goes on.
        }
        store.db.transaction(() => store.clients.insert(client('inner2')))();
      });
      expect(store.clients.list().map((c) => c.id)).toEqual(['inner2', 'outer']);
    });

    it('a unique violation is recognisable on either backend', () => {
      store.clients.insert(client('dup'));
      let caught: unknown;
      try {
        store.clients.insert(client('dup'));
      } catch (err) {
        caught = err;
      }
      expect(isUniqueViolation(caught)).toBe(true);
      // And the connection is still usable afterwards.
      expect(store.clients.get('dup')!.id).toBe('dup');
    });

    it('a change committed through a second store is seen, once the change feed signals it', async () => {
      store.clients.insert(client('cached'));
      // Read twice: on PostgreSQL the second answer comes from memory.
      expect(store.clients.get('cached')!.status).toBe('enabled');
      expect(store.clients.get('cached')!.status).toBe('enabled');
      const other = opened.second();
      const version = store.dataVersion();
      other.durably(() => {
        other.clients.setStatus('cached', 'disabled');
        other.changes.append('client', 'cached');
      });
      await waitFor(() => store.dataVersion() !== version, 5_000, 'the change signal');
      expect(store.clients.get('cached')!.status).toBe('disabled');
      expect(store.changes.since(0).map((c) => c.subject)).toContain('cached');
    });

    it('CONNECT-time reads are served from memory on PostgreSQL; only writes to credential tables empty it', () => {
      store.clients.insert(client('hot'));
      store.clients.replaceSecret('hot', Buffer.from('s'), NOW, NOW);
      const pgDb = store.postgres;
      if (!pgDb) return; // SQLite reads its file directly: nothing to cache.
      store.clients.get('hot');
      store.clients.graceEnds('hot', Date.now());
      const cached = pgDb.cachedAnswers;
      expect(cached).toBeGreaterThanOrEqual(2);
      // A different time is the same statement: graceEnds and validSecrets filter in memory.
      store.clients.graceEnds('hot', Date.now() + 1000);
      store.clients.validSecrets('hot', Date.now() + 2000);
      expect(pgDb.cachedAnswers).toBe(cached);
      store.audit.insertMany([{ at: NOW, event: 'e', principal: null, outcome: 'success', reason: null, remote: null, detail: null }]);
      store.liveSessions.heartbeat({ instance: 'i', host: 'h', pid: 1, startedAt: NOW }, NOW);
      expect(pgDb.cachedAnswers).toBe(cached);
      store.durably(() => store.clients.setScope('hot', 'x'));
      expect(pgDb.cachedAnswers).toBe(0);
      expect(store.clients.get('hot')!.scope).toBe('x');
    });

    it('a client created through a second store is never refused for long (absence is not cached)', async () => {
      expect(store.clients.get('late')).toBeUndefined();
      const other = opened.second();
      other.clients.insert(client('late'));
      // No change appended on purpose: only the bounded absence lifetime lets it through.
      await waitFor(() => store.clients.get('late') !== undefined, 3_000, 'the new client');
    });

    it('the change notification from another connection arrives within 1 s of its commit', async () => {
      const other = opened.second();
      const version = store.dataVersion();
      other.durably(() => other.changes.append('session_kick', 'x'));
      const committed = Date.now();
      await waitFor(() => store.dataVersion() !== version, 5_000, 'the change signal');
      expect(Date.now() - committed).toBeLessThanOrEqual(1_000);
    });
  });
});
