import { LatchkeyError } from '../errors/latchkey_error.js';
import { redactUrl } from './redact_url.js';

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
    throw new LatchkeyError('invalid_option', `${flag} "${redactUrl(raw)}" must be a postgres:// or postgresql:// URL${hint}`);
  }
  try {
    new URL(raw);
  } catch {
    throw new LatchkeyError('invalid_option', `${flag} "${redactUrl(raw)}" is not a valid URL`);
  }
  return raw;
}
