import { LatchkeyError } from '../errors/latchkey_error.js';

/**
 * `--cluster`: the Redis that routes MQTT between nodes and holds their MQTT
 * state. Only `redis://` and `rediss://` (TLS); the password, if any, never
 * appears in a message (config/redact_url.ts).
 *
 * @example parseClusterUrl('redis://:secret@10.0.0.5:6379/0').host // '10.0.0.5:6379'
 * @throws LatchkeyError `invalid_option` (exit 2)
 */
export function parseClusterUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new LatchkeyError('invalid_option', '--cluster must be a redis:// or rediss:// URL, e.g. redis://10.0.0.5:6379');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new LatchkeyError('invalid_option', `--cluster must be a redis:// or rediss:// URL, not ${url.protocol}//…`);
  }
  if (url.hostname === '') throw new LatchkeyError('invalid_option', '--cluster names no host, e.g. redis://10.0.0.5:6379');
  return url;
}
