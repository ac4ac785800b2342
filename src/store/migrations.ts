import type { Db } from './database.js';
import { AEDES_PERSISTENCE_SCHEMA } from './aedes_persistence.js';
import { API_KEYS_SCHEMA } from './api_keys.js';
import { ASSERTION_JTIS_SCHEMA } from './assertion_jtis.js';
import { AUDIT_COUNT_COLUMN, AUDIT_SCHEMA } from './audit.js';
import { CERTIFICATES_BY_SERIAL_INDEX, CERTIFICATES_SCHEMA, REVOKE_ORPHANED_CERTIFICATES } from './certificates.js';
import { CERTIFICATE_RENEWALS_SCHEMA } from './certificate_renewals.js';
import { CHANGES_SCHEMA } from './changes.js';
import { CLAIMS_SCHEMA } from './claims.js';
import { CLIENTS_CREDENTIALS_NOT_BEFORE, CLIENTS_INCARNATION_COLUMN, CLIENTS_SCHEMA } from './clients.js';
import { CONSOLE_LOGINS_SCHEMA } from './console_logins.js';
import { FORGET_STORED_CREDENTIALS_SQL } from './credential_safe_persistence.js';
import { ISSUED_TOKENS_SCHEMA } from './issued_tokens.js';
import { LIVE_SESSIONS_SCHEMA } from './live_sessions.js';
import { PERSONAL_ACCESS_TOKENS_SCHEMA } from './personal_access_tokens.js';
import { PROVISIONED_CLIENTS_SCHEMA } from './provisioned_clients.js';
import { REVOCATIONS_SCHEMA } from './revocations.js';
import { SIGNING_KEYS_SCHEMA } from './signing_keys.js';
import { STATIC_PASSWORDS_SCHEMA } from './static_passwords.js';
import { TEMPLATES_SCHEMA } from './templates.js';
import { USERS_SCHEMA } from './users.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Schema versions, in order. A migration is applied once, in a transaction,
 * and recorded in `PRAGMA user_version`; never edit one that has shipped,
 * append a new one. Numbers may skip (each branch reserves its own), but
 * must ascend: checked below when the module loads.
 */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'clients, secrets, signing keys, revocations, audit, changes, certificates',
    sql: [CLIENTS_SCHEMA, SIGNING_KEYS_SCHEMA, REVOCATIONS_SCHEMA, AUDIT_SCHEMA, CHANGES_SCHEMA, CERTIFICATES_SCHEMA].join('\n'),
  },
  { version: 2, name: 'MQTT retained messages, persistent sessions, queues and wills', sql: AEDES_PERSISTENCE_SCHEMA },
  {
    version: 3,
    name: 'users, personal access tokens, API keys and their secrets',
    sql: [USERS_SCHEMA, PERSONAL_ACCESS_TOKENS_SCHEMA, API_KEYS_SCHEMA].join('\n'),
  },
  { version: 4, name: 'private_key_jwt assertion jtis seen (replay protection); certificates by serial', sql: [ASSERTION_JTIS_SCHEMA, CERTIFICATES_BY_SERIAL_INDEX].join('\n') },
  {
    version: 5,
    name: 'client incarnations; certificates of deleted clients revoked',
    sql: [CLIENTS_INCARNATION_COLUMN, REVOKE_ORPHANED_CERTIFICATES].join('\n'),
  },
  { version: 6, name: 'audit rows that aggregate several events carry a count', sql: AUDIT_COUNT_COLUMN },
  {
    version: 7,
    name: 'live sessions per server instance, issued token metadata, static MQTT passwords',
    sql: [LIVE_SESSIONS_SCHEMA, ISSUED_TOKENS_SCHEMA, STATIC_PASSWORDS_SCHEMA].join('\n'),
  },
  {
    version: 8,
    name: 'onboarding: provisioning templates, claims, provisioned clients, certificate renewals',
    sql: [TEMPLATES_SCHEMA, CLAIMS_SCHEMA, PROVISIONED_CLIENTS_SCHEMA, CERTIFICATE_RENEWALS_SCHEMA].join('\n'),
  },
  { version: 9, name: 'one-time console login links (hashed)', sql: CONSOLE_LOGINS_SCHEMA },
  { version: 11, name: 'clients: tokens issued before an auth-method change are void', sql: CLIENTS_CREDENTIALS_NOT_BEFORE },
  { version: 12, name: 'tokens never reach the disk: forget packets on $auth and $provision topics stored by older versions', sql: FORGET_STORED_CREDENTIALS_SQL },
];

/**
 * Throws unless versions are positive integers in strictly ascending order.
 * `runMigrations` skips every version at or below `user_version`, so a
 * newer number merged before an older one would leave the older migration
 * unapplied on every database that had already passed it — silently. A
 * duplicate would apply one of the two never. Failing at load turns such a
 * merge into an error on the first run of any command or test.
 *
 * @example checkMigrationOrder([{ version: 2, … }, { version: 1, … }]) // throws
 */
export function checkMigrationOrder(migrations: readonly Migration[]): void {
  let previous = 0;
  for (const { version, name } of migrations) {
    if (!Number.isSafeInteger(version) || version <= previous) {
      throw new Error(`schema migrations out of order: version ${version} ("${name}") follows version ${previous}; keep them ascending, each number once`);
    }
    previous = version;
  }
}

checkMigrationOrder(MIGRATIONS);

/**
 * Applies every migration newer than the database's `user_version`, up to
 * `target` (tests build an older schema to migrate from).
 */
export function runMigrations(db: Db, target = Infinity): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (const migration of MIGRATIONS) {
    if (migration.version <= current || migration.version > target) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
}

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
