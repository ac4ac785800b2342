import { mkdirSync } from 'node:fs';
import type { Config } from './config/options.js';
import { KeyRing } from './keys/key_ring.js';
import { hostname, networkInterfaces } from 'node:os';
import { ensurePki } from './pki/ca.js';
import { operatorCertificate } from './pki/operator_certificate.js';
import { serverNames } from './pki/server_names.js';
import { databasePath } from './store/database.js';
import { Store } from './store/store.js';

export interface Initialised {
  store: Store;
  ring: KeyRing;
  pki: Awaited<ReturnType<typeof ensurePki>>;
}

/**
 * `latchkey init`, also run by `start`: data and certs directories, the
 * database at the current schema, a signing key, the CA and the server
 * certificate. Idempotent: what exists is kept.
 *
 * @example const { store } = await initialise(config);
 */
export async function initialise(config: Pick<Config, 'dataDir' | 'certsDir' | 'tlsNames' | 'tlsCert' | 'tlsKey'>): Promise<Initialised> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const store = Store.open(databasePath(config));
  try {
    const ring = await KeyRing.open(store);
    // Re-issued (same CA) when the names change, e.g. the machine got a new address.
    let pki = await ensurePki(config.certsDir, serverNames(config.tlsNames, hostname(), networkInterfaces()));
    if (config.tlsCert !== undefined || config.tlsKey !== undefined) {
      const own = operatorCertificate(config.tlsCert, config.tlsKey);
      pki = { ...pki, serverCertPem: own.certPem, serverKeyPem: own.keyPem };
    }
    return { store, ring, pki };
  } catch (err) {
    store.close();
    throw err;
  }
}
