import { resolve } from 'node:path';
import { redactUrl } from '../config/redact_url.js';
import { databasePath } from './database.js';

/**
 * What `Store.open` is given: the `--store` URL, else `<dataDir>/latchkey.db`.
 *
 * @example storeLocation({ dataDir: './data' }) // 'data/latchkey.db'
 */
export function storeLocation(config: { dataDir: string; store?: string | undefined }): string {
  return config.store ?? databasePath(config);
}

/** How to name the store in output and logs: the file's absolute path, or the URL without its password. */
export function describeStore(config: { dataDir: string; store?: string | undefined }): string {
  return config.store === undefined ? resolve(databasePath(config)) : redactUrl(config.store);
}
