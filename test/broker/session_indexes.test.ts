import type { Client } from 'aedes';
import { describe, expect, test } from 'vitest';
import { effectiveScopes } from '../../src/broker/effective_scopes.js';
import { PolicyCache } from '../../src/broker/policy_cache.js';
import { type Credential, Session } from '../../src/broker/session.js';
import { SessionTable } from '../../src/broker/session_table.js';
import { sharedScopes } from '../../src/broker/shared_scopes.js';

const limits = { maxLevels: 16, maxBytes: 65_535 };

/** A session of `principal` on MQTT client id `clientId`, standing on credential `jti` (and certificate `serial`). */
function session(clientId: string, principal: string, jti: string, serial: string | null = null): Session {
  const credential: Credential = { method: 'jwt', id: jti, scopes: null, exp: Infinity, iat: 0, certificateSerial: serial, certificateThumbprint: null };
  // Session reads only the id of the Aedes client.
  const client = { id: clientId } as unknown as Client;
  return new Session(client, { kind: 'client', name: principal }, credential, new PolicyCache(limits).get(principal, []), null);
}

describe('SessionTable indexes', () => {
  test('one, two, then one session per key: every lookup sees exactly the live ones', () => {
    const table = new SessionTable();
    const a = session('p@a', 'p', 'j1', 's1');
    const b = session('p@b', 'p', 'j1', 's1');
    table.add(a);
    expect(table.byPrincipal('p')).toEqual([a]);
    table.add(b);
    expect(new Set(table.byPrincipal('p'))).toEqual(new Set([a, b]));
    expect(new Set(table.byCredential('j1'))).toEqual(new Set([a, b]));
    expect(new Set(table.byCertificate('s1'))).toEqual(new Set([a, b]));
    expect(table.remove(a)).toBe(true);
    expect(table.byPrincipal('p')).toEqual([b]);
    expect(table.byCredential('j1')).toEqual([b]);
    expect(table.byCertificate('s1')).toEqual([b]);
    expect(table.remove(b)).toBe(true);
    expect(table.byPrincipal('p')).toEqual([]);
    expect(table.byCredential('j1')).toEqual([]);
    expect(table.byCertificate('s1')).toEqual([]);
    expect(table.size).toBe(0);
  });

  test("a principal's sessions on its own id and on suffixed ids are all found, and only its own", () => {
    const table = new SessionTable();
    const own = session('alice', 'alice', 'j1');
    const laptop = session('alice@laptop', 'alice', 'j2');
    const bob = session('bob', 'bob', 'j3');
    for (const s of [own, laptop, bob]) table.add(s);
    expect(new Set(table.byPrincipal('alice'))).toEqual(new Set([own, laptop]));
    expect(table.byPrincipal('bob')).toEqual([bob]);
    table.remove(own);
    expect(table.byPrincipal('alice')).toEqual([laptop]);
    table.add(own);
    table.remove(laptop);
    expect(table.byPrincipal('alice')).toEqual([own]);
    table.remove(own);
    expect(table.byPrincipal('alice')).toEqual([]);
    expect(table.byPrincipal('bob')).toEqual([bob]);
  });

  test('adding the same session twice indexes it once', () => {
    const table = new SessionTable();
    const a = session('t1', 't1', 'j');
    table.add(a);
    table.add(a);
    expect(table.byPrincipal('t1')).toEqual([a]);
    table.remove(a);
    expect(table.byPrincipal('t1')).toEqual([]);
  });

  test('a taken-over session is not removed in place of its successor', () => {
    const table = new SessionTable();
    const old = session('t1', 't1', 'j1');
    const successor = session('t1', 't1', 'j2');
    table.add(old);
    table.remove(old);
    table.add(successor);
    expect(table.remove(old)).toBe(false);
    expect(table.byClientId('t1')).toBe(successor);
    expect(table.byCredential('j2')).toEqual([successor]);
  });

  test('a renewal moves the session from the old credential id to the new one', () => {
    const table = new SessionTable();
    const a = session('t1', 't1', 'old');
    table.add(a);
    table.replaceCredential(a, () => (a.credential = { ...a.credential, id: 'new' }));
    expect(table.byCredential('old')).toEqual([]);
    expect(table.byCredential('new')).toEqual([a]);
  });
});

describe('shared scopes', () => {
  test('the same scope text gives the same frozen array; different text, a different one', () => {
    const a = sharedScopes('mqtt:publish:home/{client_id}/t mqtt:subscribe:home/{client_id}/#');
    expect(sharedScopes('mqtt:publish:home/{client_id}/t mqtt:subscribe:home/{client_id}/#')).toBe(a);
    expect(Object.isFrozen(a) && a.every((s) => Object.isFrozen(s))).toBe(true);
    expect(a.map((s) => s.raw)).toEqual(['mqtt:publish:home/{client_id}/t', 'mqtt:subscribe:home/{client_id}/#']);
    expect(sharedScopes('mqtt:publish:home/{client_id}/t')).not.toBe(a);
  });

  test('a scope string that does not parse is refused every time', () => {
    expect(() => sharedScopes('mqtt:publish:a/{x}')).toThrow(/placeholder/);
    expect(() => sharedScopes('mqtt:publish:a/{x}')).toThrow(/placeholder/);
  });
});

describe('effectiveScopes', () => {
  const held = sharedScopes('mqtt:publish:home/{client_id}/# mqtt:subscribe:home/{client_id}/#');

  test('nothing cut: the credential scopes themselves, no copy', () => {
    const carried = sharedScopes('mqtt:publish:home/{client_id}/t');
    expect(effectiveScopes(carried, held, 't1')).toBe(carried);
  });

  test('no scopes of its own: exactly the principal scopes', () => {
    expect(effectiveScopes(null, held, 't1')).toBe(held);
  });

  test('scopes the principal no longer holds are cut', () => {
    const carried = sharedScopes('mqtt:publish:home/{client_id}/t mqtt:publish:other/x');
    expect(effectiveScopes(carried, held, 't1').map((s) => s.raw)).toEqual(['mqtt:publish:home/{client_id}/t']);
  });
});

describe('CachedPolicy', () => {
  test('decides per action and keeps deciding after the cache fills', () => {
    const policy = new PolicyCache(limits).get('t1', sharedScopes('mqtt:publish:home/{client_id}/#'));
    expect(policy.decide('publish', 'home/t1/a').allow).toBe(true);
    expect(policy.decide('subscribe', 'home/t1/a').allow).toBe(false);
    for (let i = 0; i < 600; i++) expect(policy.decide('publish', `home/t1/${i}`).allow).toBe(true);
    expect(policy.decide('publish', 'home/t2/a').allow).toBe(false);
  });
});

describe('compiled policies of a fleet', () => {
  test('share their allow decisions, which still name the scope', () => {
    const scopes = sharedScopes('mqtt:publish:fleet/{client_id}/t');
    const cache = new PolicyCache(limits);
    const a = cache.get('d1', scopes).decide('publish', 'fleet/d1/t');
    const b = cache.get('d2', scopes).decide('publish', 'fleet/d2/t');
    expect(a).toEqual({ allow: true, reason: 'allowed by mqtt:publish:fleet/{client_id}/t', scope: 'mqtt:publish:fleet/{client_id}/t' });
    expect(b).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    // Sharing the decision never shares the expansion: d1 may not publish to d2's topic.
    expect(cache.get('d1', scopes).decide('publish', 'fleet/d2/t').allow).toBe(false);
  });
});

describe('PolicyCache', () => {
  test('one policy per (principal, scopes), and no more than its capacity', () => {
    const cache = new PolicyCache(limits, 2);
    const scopes = sharedScopes('mqtt:publish:fleet/{client_id}/t');
    const d1 = cache.get('d1', scopes);
    expect(cache.get('d1', scopes)).toBe(d1);
    // Equal scope text from another (unshared) list is the same key.
    expect(cache.get('d1', [...scopes])).toBe(d1);
    expect(cache.get('d2', scopes)).not.toBe(d1);
    expect(cache.get('d1', sharedScopes('mqtt:publish:fleet/{client_id}/u'))).not.toBe(d1);
    // Full at two: the third entry started it over, so d1's policy is compiled anew.
    expect(cache.get('d1', scopes)).not.toBe(d1);
    expect(cache.get('d1', scopes).decide('publish', 'fleet/d1/t').allow).toBe(true);
  });
});
