import { isIP } from 'node:net';
import { LatchkeyError } from '../../errors/latchkey_error.js';

/** Where a remote latchkey is and how to prove who we are. */
export interface RemoteTarget {
  /** The server's base URL, e.g. `https://hub.lan:8443`. */
  server: URL;
  /** A personal access token or API key with admin:read / admin:write. */
  token: string;
  /** PEM of the CA to trust for HTTPS (the latchkey CA), besides the system's. */
  ca?: string;
}

/**
 * Checks `--server`: http or https, no credentials or query in it. Plain
 * http only to this machine (loopback): the bearer token would otherwise
 * cross the network in the clear.
 *
 * @example parseServerUrl('https://hub.lan:8443') // URL
 * @throws LatchkeyError invalid_option
 */
export function parseServerUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new LatchkeyError('invalid_option', `--server "${text}" is not a URL, e.g. https://hub.lan:8443`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new LatchkeyError('invalid_option', `--server must be an https:// URL (got ${url.protocol})`);
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new LatchkeyError('invalid_option', '--server takes the server URL only; pass the token with --token or LATCHKEY_TOKEN');
  }
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new LatchkeyError('invalid_option', `--server ${url.origin} would send the token unencrypted: use https:// (the HTTPS port, 8443 by default) with --ca`);
  }
  return url;
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

