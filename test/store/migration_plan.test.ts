import { describe, expect, it } from 'vitest';
import { COPIED_TABLES, insertStatement, mismatches, rowsPerInsert, SKIPPED_TABLES, unknownTables } from '../../src/store/postgres/migration_plan.js';
import { POSTGRES_TABLES } from '../../src/store/postgres/schema.js';
import { Store } from '../../src/store/store.js';

describe('what latchkey migrate copies', () => {
  it('knows every table of the current SQLite schema: each is copied or skipped for a stated reason', () => {
    const store = Store.open(':memory:');
    try {
      const tables = store.sqlite!.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
      expect(tables.length).toBeGreaterThan(20);
      expect(unknownTables(tables)).toEqual([]);
    } finally {
      store.close();
    }
  });

  it('a table it does not know is named, so a later SQLite migration cannot be dropped silently', () => {
    expect(unknownTables(['clients', 'widgets', 'aedes_retained'])).toEqual(['widgets']);
  });

  it('copies every PostgreSQL table but the per-process ones and the change feed, parents before children', () => {
    const skipped = POSTGRES_TABLES.filter((t) => !(COPIED_TABLES as readonly string[]).includes(t));
    expect(skipped).toEqual(['changes', 'live_instances', 'live_sessions']);
    for (const t of skipped) expect(SKIPPED_TABLES[t]).toBeTruthy();
    const order = (t: string) => COPIED_TABLES.indexOf(t as (typeof COPIED_TABLES)[number]);
    for (const [child, parent] of [
      ['client_secrets', 'clients'],
      ['personal_access_tokens', 'users'],
      ['api_key_secrets', 'api_keys'],
      ['client_static_passwords', 'clients'],
      ['claims', 'provisioning_templates'],
      ['provisioned_clients', 'clients'],
    ] as const) {
      expect(order(parent), `${parent} before ${child}`).toBeLessThan(order(child));
    }
  });

  it('batches INSERTs under PostgreSQL\'s parameter limit, quoting column names (console_logins has "user")', () => {
    expect(rowsPerInsert(9)).toBe(500);
    expect(rowsPerInsert(200) * 200).toBeLessThanOrEqual(65_535);
    expect(insertStatement('console_logins', ['hash', 'user'], 2)).toBe('INSERT INTO console_logins ("hash", "user") VALUES (?, ?), (?, ?)');
  });

  it('a copy verifies only when every count and every key digest agree', () => {
    expect(mismatches({ clients: { source: 2, copied: 2 } }, { clients: 'a' }, { clients: 'a' })).toEqual([]);
    expect(mismatches({ clients: { source: 2, copied: 1 } }, {}, {})).toEqual(['clients: 2 rows in SQLite, 1 in PostgreSQL']);
    expect(mismatches({}, { clients: 'a' }, { clients: 'b' })).toEqual(['clients: not the same rows on both sides']);
  });
});
