import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit_log.js';
import { auditableClientId, auditableUsername } from '../../src/broker/audit_name.js';
import { ClientPrincipals, Principals } from '../../src/broker/principals.js';
import { createLogger } from '../../src/log/logger.js';
import { ClientRegistry } from '../../src/registry/clients.js';
import { openDatabase } from '../../src/store/database.js';
import { Store } from '../../src/store/store.js';

/** What of a presented MQTT client id the audit trail and the logs may show. */
describe('auditableClientId', () => {
  const jwt = `eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.${'e'.repeat(120)}.${'s'.repeat(86)}`;
  it.each([
    ['keep/device', 't1', 't1'],
    ['keep/person-with-suffix', 'alice@laptop', 'alice@laptop'],
    ['keep/unknown-but-name-shaped', 'thermostat-42', 'thermostat-42'],
    ['withhold/pat', 'lk_pat_0123456789abcdefghijABCDEFGHIJ012345', null],
    ['withhold/api-key', 'lk_key_0123456789abcdefghijABCDEFGHIJ012345', null],
    ['withhold/claim', 'lk_clm_0123456789abcdefghijABCDEFGHIJ012345', null],
    ['withhold/jwt', jwt, null],
    ['withhold/spaces', 'my secret password', null],
    ['withhold/empty', '', null],
    ['withhold/long-suffix', `alice@${'x'.repeat(65)}`, null],
  ])('%s', (_name, presented, shown) => {
    expect(auditableClientId(presented)).toBe(shown);
  });
});

/** The username of a refused CONNECT is shown as given unless it has the shape of a credential. */
describe('auditableUsername', () => {
  const store = new Store(openDatabase(':memory:'));
  const longName = 'thermostat-living-room-first-floor-north-01';
  const registry = new ClientRegistry(store, new AuditLog(store, createLogger('silent')), 600);
  registry.create({ id: 't1', scope: 'mqtt:publish:a' }, 'test');
  registry.create({ id: longName, scope: 'mqtt:publish:a' }, 'test');
  const principals = new Principals();
  principals.add(new ClientPrincipals(store));
  it.each([
    ['keep/registered-client', 't1', 't1'],
    ['keep/unknown-name-as-given', 'ghost-user', 'ghost-user'],
    ['keep/registered-name-of-secret-length', longName, longName],
    ['withhold/client-secret-shaped', 'Qm9vdHN0cmFwLXNlY3JldC1mb3ItdGVzdHMtb25seQx', null],
    ['withhold/pat-shaped', 'lk_pat_0123456789abcdefghijABCDEFGHIJ012345', null],
    ['withhold/jwt', `eyJhbGciOiJFUzI1NiJ9.${'e'.repeat(120)}.${'s'.repeat(86)}`, null],
    ['withhold/absent', undefined, null],
  ])('%s', (_name, presented, shown) => {
    expect(auditableUsername(principals, presented)).toBe(shown);
  });
});
