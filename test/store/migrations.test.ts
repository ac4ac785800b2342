import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/database.js';
import { checkMigrationOrder, SCHEMA_VERSION, type Migration } from '../../src/store/migrations.js';

const m = (...versions: number[]): Migration[] => versions.map((version) => ({ version, name: `m${version}`, sql: '' }));

describe('schema migrations run in version order', () => {
  it('ascending versions pass, gaps included (each branch reserves its own number)', () => {
    expect(() => checkMigrationOrder(m(1, 2, 3, 4, 6, 11, 12))).not.toThrow();
  });

  it('a newer number before an older one fails loudly, naming both', () => {
    expect(() => checkMigrationOrder(m(1, 2, 12, 7))).toThrow(/version 7 \("m7"\) follows version 12/);
  });

  it('a number used twice, zero, a negative or a fraction fails', () => {
    for (const versions of [m(1, 2, 2), m(0), m(-1), m(1, 1.5)]) expect(() => checkMigrationOrder(versions)).toThrow(/out of order/);
  });

  it('the shipped list loads, and a new database reaches its highest version', () => {
    const db = openDatabase(':memory:');
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(12);
    db.close();
  });
});
