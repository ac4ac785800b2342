import { LatchkeyError } from '../errors/latchkey_error.js';

/**
 * `--store` (env `LATCHKEY_STORE`): a PostgreSQL URL, for several nodes
 * sharing one store (docs/CLUSTER.md). Without it, SQLite in --data-dir.
 */

/** Whether `location` names PostgreSQL rather than a SQLite file. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/**
 * Checks a `--store` value: only `postgres://` and `postgresql://` URLs.
 *
 * @throws LatchkeyError invalid_option (exit 2), naming the value (and `flag`) without its password
 */
export function checkStoreUrl(raw: string, flag: '--store' | '--to' = '--store'): string {
  if (!isPostgresUrl(raw)) {
    const hint = flag === '--store' ? ' (leave it out for SQLite in --data-dir)' : '';
    throw new LatchkeyError('invalid_option', `${flag} "${redactStoreUrl(raw)}" must be a postgres:// or postgresql:// URL${hint}`);
  }
  try {
    new URL(raw);
  } catch {
    throw new LatchkeyError('invalid_option', `${flag} "${redactStoreUrl(raw)}" is not a valid URL`);
  }
  return raw;
}

/**
 * The URL with its password (and any `password=` parameter) replaced by
 * `***`: what logs and error messages may show.
 *
 * @example redactStoreUrl('postgres://lk:secret@db/lk') // 'postgres://lk:***@db/lk'
 */
export function redactStoreUrl(raw: string): string {
  let out = raw.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@?#]*:)[^@/?#]*@/i, '$1***@');
  out = out.replace(/([?&]password=)[^&#]*/gi, '$1***');
  return out;
}
