import { isIP } from 'node:net';
import type { NetworkInterfaceInfo } from 'node:os';
import { PkiError } from './pki_error.js';

/** The names a server certificate covers: DNS names and IP addresses (its subjectAltName). */
export interface ServerNames {
  dns: string[];
  ip: string[];
}

/** Always covered, whatever else is asked for: local tools and tests talk to latchkey this way. */
const LOOPBACK: ServerNames = { dns: ['localhost'], ip: ['127.0.0.1', '::1'] };

/** RFC 1035 §2.3.1 labels (with RFC 1123's leading digits), optionally a leading `*.` wildcard (RFC 6125 §6.4.3). */
const DNS_NAME = /^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * The names the server certificate must cover. `requested` is the
 * `--tls-names` list (comma separated DNS names and IP addresses); without
 * it, this machine's host name (and `<host>.local`, its mDNS name) and every
 * non-loopback address of its interfaces, so devices on the LAN can verify
 * the server whichever way they reach it. localhost, 127.0.0.1 and ::1 are
 * always included. Link-local IPv6 addresses (fe80::/10) are left out: they
 * only mean something together with an interface. Deduplicated, in order
 * of preference: the names asked for (or the host name) first, loopback
 * last; what devices should dial (onboarding strings) is the first DNS name.
 * The certificate is compared as a set, so order never causes a re-issue.
 *
 * @example serverNames('hub.lan,192.168.1.10', 'pi', {}) // { dns: ['hub.lan', 'localhost'], ip: ['192.168.1.10', '127.0.0.1', '::1'] }
 * @throws PkiError invalid_tls_names for an entry that is neither a DNS name nor an IP address
 */
export function serverNames(
  requested: string | undefined,
  hostname: string,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>,
): ServerNames {
  const dns = new Set<string>();
  const ip = new Set<string>();
  if (requested !== undefined && requested.trim() !== '') {
    for (const raw of requested.split(',')) {
      const name = raw.trim().replace(/^\[(.*)\]$/, '$1');
      if (name === '') continue;
      if (isIP(name) !== 0) ip.add(name.toLowerCase());
      else if (DNS_NAME.test(name) && name.length <= 253) dns.add(name.toLowerCase());
      else throw new PkiError('invalid_tls_names', `--tls-names: "${raw.trim()}" is neither a DNS name nor an IP address`);
    }
  } else {
    const host = hostname.trim().toLowerCase();
    if (DNS_NAME.test(host) && !host.startsWith('*')) {
      dns.add(host);
      if (!host.includes('.')) dns.add(`${host}.local`);
    }
    for (const addresses of Object.values(interfaces)) {
      for (const a of addresses ?? []) {
        if (a.internal || /^fe[89ab]/i.test(a.address) || a.address.includes('%')) continue;
        ip.add(a.address.toLowerCase());
      }
    }
  }
  for (const name of LOOPBACK.dns) dns.add(name);
  for (const address of LOOPBACK.ip) ip.add(address);
  return { dns: [...dns], ip: [...ip] };
}
